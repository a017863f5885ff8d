"""The Whoosh backend: ranking, filters, facets, highlights and suggestions over the on-disk index.

Whoosh provides analysis (stemming), storage, postings and segment management. Ranking is
BM25F computed here from the postings, because we want things Whoosh's matchers do not offer
cheaply together: one score per *query term* across the weighted field groups (saturated once,
not per field), a coordination bonus for matching more of the user's terms, alias groups that
match by technology tag or by words, and facet counts over the full match set. Per-term score
tables are cached per index reader, so repeated terms cost a dictionary merge.

One searcher per process (guarded by a lock: Whoosh file handles are not thread-safe), refreshed
before each query when the generation pointer or the index's TOC moved.
"""

from __future__ import annotations

import functools
import heapq
import logging
import re
import threading
from collections import Counter, OrderedDict
from itertools import accumulate

from whoosh.codec import whoosh3
from whoosh.query import Or, Phrase

from incidents.models import PROVENANCE_RANK, Status
from incidents.search import fields as search_fields
from incidents.search import whoosh_store as store
from incidents.search.documents import Hit
from incidents.search.engine import (
    COORD,
    HIGHLIGHT_FIELDS,
    Group,
    QueryPlan,
    Ranked,
    highlight_text,
    idf,
)
from incidents.search.highlight import MAX_TEXT_CHARS, fragment
from incidents.search.query import STOPWORDS
from incidents.search.spelling import Speller

K1 = 1.2
B = 0.75
TECH_WEIGHT = 2.5  # an alias group matched by technology tag scores like a strong head term
TERM_CACHE_SIZE = 4096
CACHE_POSTINGS = 2_000_000  # bound on cached (doc, score) pairs per reader
TEXT_FIELDS = tuple(store.FIELD_BOOSTS)

log = logging.getLogger(__name__)

_WORD_RE = re.compile(r"\w+(?:\.\w+)*")


def stem(word: str) -> str:
    stems_ = store.analyse_text(word)
    return stems_[0] if stems_ else ""


def stems(words) -> list[str]:
    out: list[str] = []
    for w in words:
        out.extend(store.analyse_text(w))
    return out


def analyse(text: str):
    """(stem, start, end) for each word of `text`; same stems as the index, memoised."""
    stem_word, stop = store.stem_word, STOPWORDS
    for m in _WORD_RE.finditer(text):
        word = m.group().lower()
        if word not in stop:
            yield stem_word(word), m.start(), m.end()


# --- Document sets -------------------------------------------------------------------------------
# A set of documents is a Python int with one *byte* per document (byte d is 1 when document d is
# in the set). Union, intersection and difference are single big-int operations in C, counting is
# int.bit_count(), and int.to_bytes() turns a set into a bytes object for O(1) membership tests.
# Facet counts over any match set are then one AND + bit_count per facet value, whatever the size
# of the match set.


def _docset(docs, n: int) -> int:
    flags = bytearray(n)
    for d in docs:
        flags[d] = 1
    return int.from_bytes(flags, "little")


def _members(docs: int, n: int) -> list[int]:
    return [m.start() for m in _ONE.finditer(docs.to_bytes(n, "little"))]


_ONE = re.compile(b"\x01")


class _Term:
    """One cached posting list: BM25F score per document, and the documents as a set.

    `top` (the highest score) and `ranked` (documents by descending score) are worked out on
    first use and kept with the cached term: they let a search take a term's best documents
    without scoring every document that contains it (`_top`)."""

    __slots__ = ("_ranked", "_top", "docs", "scores")

    def __init__(self, scores: dict[int, float], docs: int) -> None:
        self.scores = scores
        self.docs = docs
        self._top: float | None = None
        self._ranked: list[int] | None = None

    @property
    def top(self) -> float:
        if self._top is None:
            self._top = max(self.scores.values(), default=0.0)
        return self._top

    @property
    def ranked(self) -> list[int]:
        if self._ranked is None:
            self._ranked = sorted(self.scores, key=self.scores.__getitem__, reverse=True)
        return self._ranked


EMPTY = _Term({}, 0)

# The postings of a cold common word are most of a phrase search's time. Whoosh's matcher
# interface hands them over one call per posting (about a microsecond each, with id(), weight(),
# next() and is_active()); its W3 codec holds each block's id gaps and weights as arrays, and
# `_posting_blocks` takes those whole, a block at a time. It relies on that codec's internals,
# so only for exactly that matcher class and with the attributes present; anything else (a
# matcher wrapped to skip deleted documents, another codec, a changed release) goes through the
# public interface. Both paths give the same postings (tests/search/test_whoosh_packed_terms.py).
_BLOCK_MATCHER = getattr(whoosh3, "W3LeafMatcher", None)
_BLOCK_API = (
    "_data", "_read_data", "_byteids", "_read_weights", "_next_block", "_weights", "is_active",
)  # fmt: skip


def _posting_blocks(m, *, bulk: bool = True):
    """(document ids, weights) per block of a leaf matcher's postings, in order; ids are the
    segment's own document numbers."""
    if bulk and type(m) is _BLOCK_MATCHER and all(hasattr(m, a) for a in _BLOCK_API):
        while m.is_active():
            if m._data is None:
                m._read_data()
            # The ids are stored as gaps: summed here in C (accumulate), where _read_ids sums
            # them in a Python generator, a third of a cold term's build.
            ids = m._data[0] if m._byteids else tuple(accumulate(m._data[0]))
            m._read_weights()
            yield ids, m._weights
            m._next_block()
        return
    is_active, next_, doc, weight = m.is_active, m.next, m.id, m.weight
    ids: list[int] = []
    weights: list[float] = []
    while is_active():
        ids.append(doc())
        weights.append(weight())
        next_()
    yield ids, weights


class _SeqCodes(dict):
    """stem -> one character, given out in the order stems are first met, for the whole process
    (every view's sequences use the same codes). A phrase is then a substring of one character
    per word in a document's encoded sequence: a third of the text of the stored sequence
    (" stem stem | stem "), and a needle with no space in it, whose last character is rare in
    the text, so the substring search skips ahead instead of stopping at every space. Testing
    a common pair in all 10,000 stories of bench/search_bench.py's corpus: 18 ms, now 5 ms.
    Codes are given out under a lock: two stems must never share one. The table only grows,
    one entry per distinct stem this process has seen in an index (a stem whose last story is
    deleted keeps its code until the process restarts)."""

    _lock = threading.Lock()

    def __missing__(self, stem: str) -> str:
        with self._lock:
            code = self.get(stem)
            if code is None:
                n = len(self) + 0x100  # past control characters and Latin-1: two bytes wide
                if n >= 0xD800:
                    n += 0x800  # surrogates are not characters
                code = self[stem] = chr(n)  # ValueError past U+10FFFF: a million stems
        return code


_SEQ_CODES = _SeqCodes()


def _encode_seq(seq: str) -> str:
    """A stored stem sequence (store.stem_sequence: " a b | c ") in _SEQ_CODES, "|" included, so
    no phrase spans two fields."""
    return "".join(map(_SEQ_CODES.__getitem__, seq.split()))


class _View:
    """Everything derived from one index reader: per-doc metadata, lengths, facet sets, cached
    per-term score tables."""

    def __init__(self, searcher, previous: _View | None = None) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        self.reader = reader
        n = reader.doc_count_all()
        self.n = n
        self.meta: list[dict | None] = [None] * n
        self.pk: list[int] = [0] * n
        # Each document's stem sequence, one character per stem (_SEQ_CODES), and the encoded
        # sequences by document hash: a refresh after a commit re-encodes only what changed.
        self.seq: list[str] = [""] * n
        self.seq_by_hash: dict[str, str] = {}
        reuse = previous.seq_by_hash if previous is not None else {}
        self.has_seq = True  # False for an index built before the stem sequence existed
        # Group lengths of the documents written with the packed `terms` field; a document
        # written before it (per-group postings) has none and is scored from those postings.
        stored: list[list[int] | None] = [None] * n
        for docnum, fields in reader.iter_docs():
            self.meta[docnum] = _named(fields["meta"])
            self.pk[docnum] = int(fields["id"])
            stored[docnum] = fields.get("lengths")
            seq = fields.get("seq")
            if seq is None:
                self.has_seq = False
                continue
            dochash = fields.get("dochash")
            encoded = reuse.get(dochash) if dochash else None
            if encoded is None:
                encoded = _encode_seq(seq)
            self.seq[docnum] = encoded
            if dochash:
                self.seq_by_hash[dochash] = encoded
        self.alive = [d for d in range(n) if self.meta[d] is not None]
        self.count = len(self.alive)
        self.has_packed = any(stored[d] is not None for d in self.alive)
        self.has_legacy = any(stored[d] is None for d in self.alive)
        self.norm: dict[str, list[float]] = {}
        for i, f in enumerate(TEXT_FIELDS):
            # `or 0`: Whoosh's W3 codec answers None, not the default, for a document whose
            # field is empty (length byte 0) once a segment has a length column, i.e. after a
            # rebuild or a merge that includes an empty story (an anonymous suggestion's draft).
            lengths = [
                stored[d][i] if stored[d] is not None else reader.doc_field_length(d, f, 0) or 0
                for d in range(n)
            ]
            avg = (sum(lengths) / self.count) if self.count else 1.0
            avg = avg or 1.0
            # BM25F: each field's tf is divided by its length normalisation and weighted.
            self.norm[f] = [store.FIELD_BOOSTS[f] / (1 - B + B * ln / avg) for ln in lengths]
        self._build_sets()
        self.terms: OrderedDict[tuple, _Term] = OrderedDict()
        self.cached_postings = 0
        self.lock = threading.Lock()
        self._speller: Speller | None = None

    def _build_sets(self) -> None:
        """Document sets per status and per declared field value, and the browse order (newest
        first)."""
        declared = search_fields.all_fields()
        members: dict[str, dict[str, list[int]]] = {"status": {}}
        members.update((f.name, {}) for f in declared)
        for d in self.alive:
            m = self.meta[d]
            members["status"].setdefault(m.get("status", ""), []).append(d)
            for f in declared:
                # .get: an index written before the field was declared
                for key in f.keys(m.get(f.name, f.empty())):
                    members[f.name].setdefault(key, []).append(d)
        n = self.n
        self.sets = {
            key: {v: _docset(docs, n) for v, docs in values.items()}
            for key, values in members.items()
        }
        self.all_docs = _docset(self.alive, n)
        meta = self.meta
        self.provenance_rank = {
            d: _PROVENANCE_RANK.get(meta[d].get("provenance", ""), 0) for d in self.alive
        }
        self.orders: dict[tuple, list[int]] = {}

    def order(self, keys: tuple[tuple[str, bool], ...]) -> list[int]:
        """The live documents ordered by the stored values `keys` names ((name, descending),
        most significant first; fields.ORDERINGS), sorted once per view and ordering: a page
        is then the first matches met along this list."""
        with self.lock:
            docs = self.orders.get(keys)
        if docs is None:
            meta, pk = self.meta, self.pk
            empty = {f.name: f.empty() for f in search_fields.stored()}
            docs = list(self.alive)
            for name, descending in reversed(keys):  # stable sorts, least significant first
                if name == "id":
                    docs.sort(key=pk.__getitem__, reverse=descending)
                    continue
                # .get: an index written before the value was stored orders it as empty
                default = empty.get(name, "")
                values = {d: meta[d].get(name, default) for d in docs}
                docs.sort(key=values.__getitem__, reverse=descending)
            with self.lock:
                self.orders[keys] = docs
        return docs

    # --- postings ------------------------------------------------------------------------------

    def _postings(self, field: str, text: str):
        """(document, weight) of every posting of `text` in `field`."""
        for leaf, base in self.reader.leaf_readers():
            if (field, text) not in leaf:
                continue
            for ids, weights in _posting_blocks(leaf.postings(field, text)):
                for d, w in zip(ids, weights, strict=True):
                    yield d + base, w

    def _packed_tf(self, term: str, weight: float | None = None) -> dict[int, float]:
        """Document -> the term's length-normalised, group-weighted frequency (BM25F's tf),
        from the packed `terms` postings: the groups' products added in group order, as
        adding per-group postings would, so the same floats. With `weight` (the term's
        idf * (K1 + 1), when known before reading), the BM25F score instead."""
        head, symptom, body = (self.norm[f] for f in TEXT_FIELDS)
        acc: dict[int, float] = {}
        scored = weight is not None
        key = (store.PACKED_FIELD, term)
        for leaf, base in self.reader.leaf_readers():
            if key not in leaf:
                continue
            for ids, weights in _posting_blocks(leaf.postings(*key)):
                for d, w in zip(ids, weights, strict=True):
                    d += base
                    w = int(w)
                    h, s, b = w & 0xFF, (w >> 8) & 0xFF, w >> 16
                    v = 0.0
                    if h:
                        v = h * head[d]
                    if s:
                        v += s * symptom[d]
                    if b:
                        v += b * body[d]
                    acc[d] = weight * v / (v + K1) if scored else v
        return acc

    def _cached(self, key: tuple, build) -> _Term:
        with self.lock:
            hit = self.terms.get(key)
            if hit is not None:
                self.terms.move_to_end(key)
                return hit
        value = build()
        with self.lock:
            old = self.terms.get(key)
            if old is not None:
                self.cached_postings -= len(old.scores)
            self.terms[key] = value
            self.cached_postings += len(value.scores)
            while len(self.terms) > 1 and (
                len(self.terms) > TERM_CACHE_SIZE or self.cached_postings > CACHE_POSTINGS
            ):
                _, dropped = self.terms.popitem(last=False)
                self.cached_postings -= len(dropped.scores)
        return value

    def term(self, term: str) -> _Term:
        """BM25F score of one stemmed term for every live document containing it."""

        def build() -> _Term:
            if self.has_packed and not self.has_legacy and self.count == self.n:
                # Every posting is a live story's (no deletions, no legacy postings), so the
                # document frequency, and with it the idf, is known before the postings are
                # read: they are scored as they are read, in one pass.
                key = (store.PACKED_FIELD, term)
                df = sum(
                    leaf.doc_frequency(*key)
                    for leaf, _ in self.reader.leaf_readers()
                    if key in leaf
                )
                if not df:
                    return EMPTY
                scores = self._packed_tf(term, idf(self.count, df) * (K1 + 1))
                return _Term(scores, _docset(scores, self.n))
            acc = self._packed_tf(term) if self.has_packed else {}
            meta = self.meta
            get = acc.get
            if self.has_legacy:  # documents indexed before the packed field
                for f in TEXT_FIELDS:
                    norm = self.norm[f]
                    for d, w in self._postings(f, term):
                        acc[d] = get(d, 0.0) + w * norm[d]
            for d in [d for d in acc if meta[d] is None]:
                del acc[d]
            if not acc:
                return EMPTY
            weight = idf(self.count, len(acc)) * (K1 + 1)
            scores = {d: weight * tf / (tf + K1) for d, tf in acc.items()}
            return _Term(scores, _docset(scores, self.n))

        return self._cached(("t", term), build)

    def term_scores(self, term: str) -> dict[int, float]:
        return self.term(term).scores

    def tech(self, slug: str) -> _Term:
        def build() -> _Term:
            docs = [d for d, _ in self._postings("tech", slug) if self.meta[d] is not None]
            if not docs:
                return EMPTY
            score = TECH_WEIGHT * idf(self.count, len(docs))
            return _Term(dict.fromkeys(docs, score), _docset(docs, self.n))

        return self._cached(("tech", slug), build)

    def phrase(self, words: tuple[str, ...]) -> _Term:
        """Documents containing the words as a phrase (scores: 1.0 each)."""
        ws = stems(words)
        if not ws:
            return EMPTY
        if len(ws) == 1:
            return self.term(ws[0])

        def build() -> _Term:
            # Only documents holding every word can hold the phrase.
            candidates = self.all_docs
            for w in ws:
                candidates &= self.term(w).docs
            if not candidates:
                return EMPTY
            if self.has_seq:
                # Every word is indexed (the candidates hold them all), so each has its code.
                needle = "".join(map(_SEQ_CODES.__getitem__, ws))
                seq = self.seq
                docs = [d for d in _members(candidates, self.n) if needle in seq[d]]
            else:
                q = Or([Phrase(f, ws) for f in TEXT_FIELDS])
                docs = [d for d in self.searcher.docs_for_query(q) if self.meta[d] is not None]
            return _Term(dict.fromkeys(docs, 1.0), _docset(docs, self.n))

        return self._cached(("p", *ws), build)

    def form(self, words: tuple[str, ...]) -> _Term:
        """The summed scores of the words' stems in each story holding them (as a phrase when
        there are several words)."""
        ws = stems(words)
        if len(ws) == 1:
            return self.term(ws[0])

        def build() -> _Term:
            only = self.phrase(words).docs if len(words) > 1 else None
            return _merge([self.term(w) for w in ws], only=only)

        return self._cached(("f", len(words) > 1, *ws), build)

    def phrase_docs(self, words: tuple[str, ...]) -> set[int]:
        return set(self.phrase(words).scores)

    def speller(self) -> Speller:
        """The indexed words (of titles, technologies, symptoms and summaries)."""
        if self._speller is None:
            self._speller = Speller(
                (t.decode("utf-8", "replace"), info.doc_frequency())
                for t, info in self.reader.iter_field("spell")
            )
        return self._speller

    def known_word(self, word: str) -> bool:
        return ("spell", word) in self.reader


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.key: tuple | None = None
        self.ix = None
        self.view: _View | None = None

    def get(self) -> _View | None:
        """The current view, refreshed if another process (or we) committed or swapped.

        If the refresh still fails after the store's retries (files replaced by other processes'
        commits faster than we can open them), the previous view is served and the failure
        logged: a search is never turned into an error by concurrent indexing."""
        base = store.root()
        name = store.current_generation(base)
        if name is None:
            return None
        key = (str(base), name)
        try:
            if key != self.key or self.view is None:
                ix = store.open_generation(name, base)
                view = _View(store.open_searcher(ix), self.view)
                old = self.view
                self.ix, self.key, self.view = ix, key, view
                if old is not None:
                    old.searcher.close()
                return view
            searcher = self.view.searcher
            if not searcher.up_to_date():
                # A fresh reader, not searcher.refresh(): refresh() reuses segment readers and
                # Whoosh then misses deletions made to a reused segment (an updated story would
                # appear twice, once with its old text).
                self.view = _View(store.open_searcher(self.ix), self.view)
                searcher.close()
        except store.TRANSIENT_OPEN_ERRORS:
            if self.view is None or self.key is None or self.key[0] != key[0]:
                raise
            log.warning("search index: refresh failed, serving the previous view", exc_info=True)
        return self.view

    def reset(self) -> None:
        with self.lock:
            if self.view is not None:
                self.view.searcher.close()
            self.key = self.ix = self.view = None


STATE = _State()


# --- Filters and facets ------------------------------------------------------------------------

# An index written before the metadata was stored by name kept it as a tuple in this order.
LEGACY_META = (
    "status", "organisation", "category", "technology", "platform", "year", "source_kind",
    "has_rules", "sort_date", "provenance",
)  # fmt: skip


def _named(meta) -> dict:
    """A document's stored values by name, tag lists as tuples: a view holds one such dict per
    story, and the garbage collector stops tracking a dict of strings, numbers and tuples of
    them, where lists kept every one of them in each full collection's walk."""
    named = meta if isinstance(meta, dict) else dict(zip(LEGACY_META, meta, strict=False))
    return {k: tuple(v) if type(v) is list else v for k, v in named.items()}


# Ties in relevance go to the record resting on more of its source (full, partial, listing).
_PROVENANCE_RANK = {str(k): v for k, v in PROVENANCE_RANK.items()}


def _allowed(view: _View, filters: dict[str, list[str]], published_only: bool) -> int:
    """The set of documents passing the filters (values of one key OR-ed, keys AND-ed); the
    values are canonical (fields.SearchField.parse)."""
    allowed = view.all_docs
    if published_only:
        allowed &= view.sets["status"].get(Status.PUBLISHED, 0)
    for key, values in filters.items():
        sets = view.sets.get(key, {})
        any_of = 0
        for v in values:
            any_of |= sets.get(v, 0)
        allowed &= any_of
    return allowed


def _facet_counts(view: _View, docs: int) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for f in search_fields.facets():
        out = {}
        if docs:
            for value, members in view.sets.get(f.name, {}).items():
                c = (docs & members).bit_count()
                if c:
                    out[value] = c
        counts[f.name] = out
    return counts


# --- Search ------------------------------------------------------------------------------------


def _merge(terms: list[_Term], only: int | None = None) -> _Term:
    """Sum of the terms' scores per document (restricted to the set `only`)."""
    terms = [t for t in terms if t.docs]
    if not terms:
        return EMPTY
    if len(terms) == 1 and only is None:
        return terms[0]
    docs = 0
    for t in terms:
        docs |= t.docs
    if only is not None:
        docs &= only
        if not docs:
            return EMPTY
        # Looked up for the documents of `only` (a phrase's: fewer than any word's postings),
        # each document's scores added in term order.
        scores: dict[int, float] = {}
        gets = [t.scores.get for t in terms]
        for d in _members(docs, (docs.bit_length() + 7) // 8):
            total = 0.0
            for get in gets:
                v = get(d)
                if v is not None:
                    total += v
            scores[d] = total
        return _Term(scores, docs)
    scores = dict(terms[0].scores)
    for t in terms[1:]:
        get = scores.get
        for d, v in t.scores.items():
            scores[d] = get(d, 0.0) + v
    return _Term(scores, docs)


def _best(terms: list[_Term]) -> _Term:
    """Per document, the best score among the terms (alternative spellings of one thing)."""
    terms = [t for t in terms if t.docs]
    if len(terms) <= 1:
        return terms[0] if terms else EMPTY
    scores = dict(terms[0].scores)
    docs = terms[0].docs
    for t in terms[1:]:
        docs |= t.docs
        get = scores.get
        for d, v in t.scores.items():
            if v > get(d, 0.0):
                scores[d] = v
    return _Term(scores, docs)


def _shared_idf(view: _View, forms: list[_Term]) -> list[_Term]:
    """The forms' scores rescaled so that each carries the IDF of the whole set (its document
    frequency being the union's), never more than its own."""
    union = 0
    for f in forms:
        union |= f.docs
    shared = idf(view.count, union.bit_count())
    out = []
    for f in forms:
        if not f.docs:
            continue
        factor = shared / idf(view.count, len(f.scores))
        if factor >= 1:
            out.append(f)
        else:
            out.append(_Term({d: v * factor for d, v in f.scores.items()}, f.docs))
    return out


def _group(view: _View, group: Group) -> _Term:
    """A group's scores: its best form in each story (a form of several words must stand as a
    phrase), or its technology's tag; a required phrase only where it stands."""
    forms = [view.form(form) for form in group.forms]
    # Any form of the term counts once (its best-scoring form in each story), weighed by how
    # common the term is in any form: a rare spelling (a Chinese word in the few stories with
    # a Chinese summary) must not outweigh the common English one.
    text = _best(_shared_idf(view, forms)) if len(forms) > 1 else _best(forms)
    tech = view.tech(group.technology) if group.technology else EMPTY
    return _merge([tech, text])


def execute(plan: QueryPlan) -> Ranked | None:
    with STATE.lock:
        view = STATE.get()
        if view is None:
            return None
        return _execute(view, plan)


def _execute(view: _View, plan: QueryPlan) -> Ranked:
    candidates = _allowed(view, plan.filters, plan.published_only)
    for words in plan.excluded:
        candidates &= ~view.phrase(words).docs
    want = plan.page * plan.per_page
    groups = [_group(view, g) for g in plan.groups]
    if groups:
        matched_any = 0
        for g, term in zip(plan.groups, groups, strict=True):
            if g.required:
                candidates &= term.docs
            matched_any |= term.docs
        candidates &= matched_any
    total = candidates.bit_count()
    member = candidates.to_bytes(view.n, "little")
    if not total:
        ranked = []
    elif plan.order:
        ranked = _first(view.order(plan.order), member, want, groups, plan.offset)
    else:
        ranked = _top(view, groups, candidates, member, want)
    page = []
    for score, d in ranked[plan.offset :]:
        matched = sum(1 << i for i, term in enumerate(groups) if d in term.scores)
        page.append((view.pk[d], score, matched))
    return Ranked(page, total, _facet_counts(view, candidates))


def _first(
    order: list[int], member: bytes, want: int, groups: list[_Term], offset: int
) -> list[tuple[float, int]]:
    """The first `want` `member` documents along `order`, scored as _top scores them (those
    before `offset` are not shown: 0.0)."""
    docs = []
    for d in order:
        if member[d]:
            docs.append(d)
            if len(docs) >= want:
                break
    n = len(groups)
    ranked = []
    for i, d in enumerate(docs):
        score = 0.0
        if n and i >= offset:
            scores = [g.scores[d] for g in groups if d in g.scores]
            score = sum(scores) * (1 + COORD * len(scores) / n)
        ranked.append((score, d))
    return ranked


def _top(
    view: _View, groups: list[_Term], allowed: int, member: bytes, want: int
) -> list[tuple[float, int]]:
    """The `want` best (score, doc) among the `allowed` documents (`member`: the same set as
    bytes): the sum of the group scores times the coordination bonus (1 + COORD * share of
    groups matched); ties by provenance (full, partial, listing), then newest story id.

    Exact, without scoring every matching document where it can (MaxScore): the best documents
    of the group that can score highest give a floor that the `want`-th best score reaches; a
    document matching only groups whose best scores, bonus included, add up to less than that
    floor cannot make the page, so only the documents of the other groups are scored. Common
    words (in most stories, low IDF) are then looked up for the candidates instead of summed
    over their thousands of postings."""
    n = len(groups)
    share = COORD / n
    if n == 1:
        return _ranked_walk(view, groups[0], member, want, 1 + COORD)
    best = max(groups, key=lambda g: g.top)
    floor = 0.0
    seed = _walk(best, member, want)
    if len(seed) >= want:
        floor = sorted((_score(groups, d, share) for d in seed), reverse=True)[want - 1]
    # Groups that can be left out of the candidates: the lowest-scoring ones whose best scores
    # together, with the full bonus for matching all of them, stay under the floor.
    optional = 0.0
    skipped = 0
    by_top = sorted(groups, key=lambda g: g.top)
    for count, g in enumerate(by_top, 1):
        bound = (optional + g.top) * (1 + share * count)
        if bound * (1 + 1e-9) >= floor:
            break
        optional += g.top
        skipped = count
    essential = set(map(id, by_top[skipped:]))
    candidates = allowed
    if skipped:
        union = 0
        for g in by_top[skipped:]:
            union |= g.docs
        candidates &= union
        member = candidates.to_bytes(view.n, "little")
    size = candidates.bit_count()
    listed: list[int] | None = None
    # Groups in query order, so that each document's scores are added in the same order
    # whichever groups are left out (the same float as scoring every document).
    scores: dict[int, float] = {}
    matched: dict[int, int] = {}
    sget, mget = scores.get, matched.get
    for g in groups:
        if id(g) in essential or len(g.scores) <= size:
            for d, v in g.scores.items():
                if member[d]:
                    scores[d] = sget(d, 0.0) + v
                    matched[d] = mget(d, 0) + 1
        else:  # a common group: looked up for the candidates only
            if listed is None:
                listed = _members(candidates, view.n)
            gget = g.scores.get
            for d in listed:
                v = gget(d)
                if v is not None:
                    scores[d] = sget(d, 0.0) + v
                    matched[d] = mget(d, 0) + 1
    items = [(v * (1 + share * matched[d]), d) for d, v in scores.items()]
    return _best_items(view, items, want)


def _score(groups: list[_Term], d: int, share: float) -> float:
    """Document d's final score: its group scores added in group order (as the full pass adds
    them, so the same float) times the coordination bonus."""
    total, count = 0.0, 0
    for g in groups:
        v = g.scores.get(d)
        if v is not None:
            total += v
            count += 1
    return total * (1 + share * count)


def _walk(term: _Term, member: bytes, want: int) -> list[int]:
    """The first `want` member documents in the term's ranking."""
    out = []
    for d in term.ranked:
        if member[d]:
            out.append(d)
            if len(out) >= want:
                break
    return out


def _ranked_walk(view: _View, term: _Term, member: bytes, want: int, factor: float):
    """One group: its member documents in its ranking, up to `want` and any tied with the last."""
    scores = term.scores
    items: list[tuple[float, int]] = []
    floor = None
    for d in term.ranked:
        if not member[d]:
            continue
        score = scores[d] * factor
        if floor is not None and score < floor:
            break
        items.append((score, d))
        if floor is None and len(items) >= want:
            floor = score
    return _best_items(view, items, want)


def _best_items(view: _View, items: list[tuple[float, int]], want: int):
    """The `want` best (score, doc) by score, then provenance, then newest id. The tie-breaking
    key is built only for the documents at or above the `want`-th best score."""
    if len(items) > want:
        floor = heapq.nlargest(want, [score for score, _ in items])[-1]
        items = [x for x in items if x[0] >= floor]
    rank, pk = view.provenance_rank, view.pk
    items.sort(key=lambda x: (x[0], rank.get(x[1], 0), -pk[x[1]]), reverse=True)
    return items[:want]


HIGHLIGHT_CACHE_SIZE = 4096  # analysed field texts kept per process


@functools.lru_cache(maxsize=HIGHLIGHT_CACHE_SIZE)
def _analysed_field(name: str, value: str) -> tuple[str, dict[str, tuple[tuple[int, int], ...]]]:
    """A field's highlighted text (engine.highlight_text) as `fragment` cuts it, and where each
    stem occurs in it: stem -> [(start, end)] of its words, stop words left out (a query's
    stop word is never marked). Keyed by the field's stored value, so an edited story is
    analysed afresh; the same stories come back in hit after hit, and a query then looks up
    only its own stems instead of walking every word of the text."""
    text = highlight_text(name, value)[:MAX_TEXT_CHARS]
    known, stem_word = store.cached_stems(), store.stem_word
    where: dict[str, list[tuple[int, int]]] = {}
    for m in _WORD_RE.finditer(text):
        word = m.group().lower()
        if word in STOPWORDS:
            continue
        s = known.get(word)
        if s is None:
            s = stem_word(word)
        spans = where.get(s)
        if spans is None:
            where[s] = [m.span()]
        else:
            spans.append(m.span())
    # Tuples, not lists: the garbage collector stops tracking a tuple of plain values (and then
    # a dict of them), and thousands of cached fields of lists made every full collection
    # walk a few hundred thousand objects (tests/search/test_whoosh_gc.py).
    return text, {s: tuple(spans) for s, spans in where.items()}


def _spans(where: dict[str, tuple[tuple[int, int], ...]], wanted: set[str]):
    """(stem, start, end) of the words whose stem is wanted, in text order."""
    found = [(s, a, b) for s in wanted.intersection(where) for a, b in where[s]]
    found.sort(key=lambda x: x[1])
    return found


def highlight(plan: QueryPlan, hits: list[Hit]) -> None:
    wanted = {s for g in plan.groups for form in g.forms for s in stems(form)}
    if not wanted:
        return
    for hit in hits:
        for field in HIGHLIGHT_FIELDS:
            text, where = _analysed_field(field, getattr(hit.story, field))
            matches = _spans(where, wanted)
            if not matches:
                continue
            size = 400 if field == "title" else 220
            frag = fragment(text, wanted, lambda _, m=matches: m, size=size)
            if frag:
                hit.highlights[field] = frag


def known_words(words: list[str]) -> set[str]:
    with STATE.lock:
        view = STATE.get()
        return {w for w in words if view is not None and view.known_word(w)}


def spelling_candidates(word: str) -> dict[str, int]:
    with STATE.lock:
        view = STATE.get()
        return view.speller().candidates(word) if view is not None else {}


# --- Index maintenance -------------------------------------------------------------------------


def index_ids(ids) -> None:
    store.write_stories(ids)


def rebuild(*, progress=None) -> int:
    count = store.rebuild(progress=progress)
    return count


def index_exists() -> bool:
    name = store.current_generation()
    return name is not None and (store.root() / name).is_dir()


def indexed_versions() -> dict[int, tuple[int, str]]:
    return store.indexed_versions()


def index_size_bytes() -> int:
    return store.index_size_bytes()


def term_document_frequency(word: str) -> int:
    with STATE.lock:
        view = STATE.get()
        if view is None:
            return 0
        return max((len(view.term_scores(s)) for s in stems([word])), default=0)


def more_like_this_terms(story, wanted_count: int = 12) -> list[str]:
    """The story's most distinctive words (high tf-idf in its own text)."""
    from incidents.search.documents import stories_for_indexing, story_doc

    fresh = stories_for_indexing([story.pk]).first()
    if fresh is None:
        return []
    doc = story_doc(fresh)
    with STATE.lock:
        view = STATE.get()
        if view is None:
            return []
        counts: Counter = Counter()
        surface: dict[str, str] = {}
        for text, w in ((doc.head, 3), (doc.symptom, 2), (doc.body, 1)):
            for m in _WORD_RE.finditer(text):
                word = m.group().lower()
                s = stem(word)
                if s and not word.isdigit() and len(word) > 2:
                    counts[s] += w
                    surface.setdefault(s, word)
        scored = []
        for s, tf in counts.items():
            df = len(view.term_scores(s))
            if df <= 1:
                continue  # only in this story: relates to nothing
            scored.append((tf * idf(view.count, df), surface[s]))
        scored.sort(reverse=True)
        return [w for _, w in scored[:wanted_count]]
