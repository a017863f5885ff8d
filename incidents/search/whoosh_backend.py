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

import heapq
import math
import re
import threading
from collections import Counter, OrderedDict
from functools import lru_cache

from whoosh.query import Or, Phrase

from incidents.models import Status
from incidents.search import whoosh_store as store
from incidents.search.documents import (
    Hit,
    SearchResults,
    build_facets,
    load_hits_stories,
    plain_text,
)
from incidents.search.highlight import fragment
from incidents.search.query import AliasGroup, ParsedQuery
from incidents.search.spelling import Speller

K1 = 1.2
B = 0.75
TECH_WEIGHT = 2.5  # an alias group matched by technology tag scores like a strong head term
COORD = 1.0  # final = bm25 * (1 + COORD * share of query groups matched)
TERM_CACHE_SIZE = 4096
TEXT_FIELDS = tuple(store.FIELD_BOOSTS)

_WORD_RE = re.compile(r"\w+(?:\.\w+)*")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    tokens = [t.text for t in store.ANALYZER(word)]
    return tokens[0] if tokens else ""


def stems(words) -> list[str]:
    out = []
    for w in words:
        out.extend(t.text for t in store.ANALYZER(w))
    return out


def analyse(text: str):
    """(stem, start, end) for each word of `text`; same stems as the index, memoised."""
    for m in _WORD_RE.finditer(text):
        s = stem(m.group().lower())
        if s:
            yield s, m.start(), m.end()


class _View:
    """Everything derived from one index reader: per-doc metadata, lengths, term score tables."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        self.reader = reader
        n = reader.doc_count_all()
        self.meta: list[tuple | None] = [None] * n
        self.pk: list[int] = [0] * n
        for docnum, fields in reader.iter_docs():
            self.meta[docnum] = fields["meta"]
            self.pk[docnum] = int(fields["id"])
        self.alive = [d for d in range(n) if self.meta[d] is not None]
        self.count = len(self.alive)
        self.norm: dict[str, list[float]] = {}
        for f in TEXT_FIELDS:
            lengths = [reader.doc_field_length(d, f, 0) for d in range(n)]
            avg = (sum(lengths) / self.count) if self.count else 1.0
            avg = avg or 1.0
            # BM25F: each field's tf is divided by its length normalisation and weighted.
            self.norm[f] = [store.FIELD_BOOSTS[f] / (1 - B + B * ln / avg) for ln in lengths]
        self.terms: OrderedDict[tuple, dict[int, float]] = OrderedDict()
        self.lock = threading.Lock()
        self._speller: Speller | None = None

    # --- postings ------------------------------------------------------------------------------

    def _postings(self, field: str, text: str):
        for leaf, base in self.reader.leaf_readers():
            if (field, text) not in leaf:
                continue
            m = leaf.postings(field, text)
            if hasattr(m, "_read_ids") and hasattr(m, "_next_block"):
                # Whole blocks at a time: ~10x faster than stepping the matcher in Python.
                while m.is_active():
                    if m._ids is None:
                        m._read_ids()
                    if m._weights is None:
                        m._read_weights()
                    for d, w in zip(m._ids, m._weights, strict=False):
                        yield d + base, w
                    m._next_block()
            else:
                while m.is_active():
                    yield m.id() + base, m.weight()
                    m.next()

    def _cached(self, key: tuple, build) -> dict[int, float]:
        with self.lock:
            hit = self.terms.get(key)
            if hit is not None:
                self.terms.move_to_end(key)
                return hit
        value = build()
        with self.lock:
            self.terms[key] = value
            while len(self.terms) > TERM_CACHE_SIZE:
                self.terms.popitem(last=False)
        return value

    def term_scores(self, term: str) -> dict[int, float]:
        """BM25F score of one stemmed term for every live document containing it."""

        def build() -> dict[int, float]:
            acc: dict[int, float] = {}
            meta = self.meta
            for f in TEXT_FIELDS:
                norm = self.norm[f]
                for d, w in self._postings(f, term):
                    if meta[d] is not None:
                        acc[d] = acc.get(d, 0.0) + w * norm[d]
            if not acc:
                return acc
            df = len(acc)
            idf = math.log(1 + (self.count - df + 0.5) / (df + 0.5))
            return {d: idf * tf * (K1 + 1) / (tf + K1) for d, tf in acc.items()}

        return self._cached(("t", term), build)

    def tech_scores(self, slug: str) -> dict[int, float]:
        def build() -> dict[int, float]:
            docs = [d for d, _ in self._postings("tech", slug) if self.meta[d] is not None]
            if not docs:
                return {}
            idf = math.log(1 + (self.count - len(docs) + 0.5) / (len(docs) + 0.5))
            return dict.fromkeys(docs, TECH_WEIGHT * idf)

        return self._cached(("tech", slug), build)

    def phrase_docs(self, words: tuple[str, ...]) -> set[int]:
        ws = stems(words)
        if not ws:
            return set()
        if len(ws) == 1:
            return set(self.term_scores(ws[0]))

        def build() -> dict[int, float]:
            q = Or([Phrase(f, ws) for f in TEXT_FIELDS])
            return dict.fromkeys(self.searcher.docs_for_query(q), 1.0)

        return set(self._cached(("p", *ws), build))

    def speller(self) -> Speller:
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
        """The current view, refreshed if another process (or we) committed or swapped."""
        base = store.root()
        name = store.current_generation(base)
        if name is None:
            return None
        key = (str(base), name)
        if key != self.key or self.view is None:
            ix = store.open_generation(name, base)
            old = self.view
            self.ix, self.key = ix, key
            self.view = _View(ix.searcher())
            if old is not None:
                old.searcher.close()
            return self.view
        searcher = self.view.searcher
        if not searcher.up_to_date():
            # A fresh reader, not searcher.refresh(): refresh() reuses segment readers and
            # Whoosh then misses deletions made to a reused segment (an updated story would
            # appear twice, once with its old text).
            self.view = _View(self.ix.searcher())
            searcher.close()
        return self.view

    def reset(self) -> None:
        with self.lock:
            if self.view is not None:
                self.view.searcher.close()
            self.key = self.ix = self.view = None


STATE = _State()


# --- Filters and facets ------------------------------------------------------------------------

_META = {
    "status": 0,
    "organisation": 1,
    "category": 2,
    "technology": 3,
    "platform": 4,
    "year": 5,
    "source_kind": 6,
    "has_rules": 7,
}


def _predicate(filters: dict[str, list[str]], published_only: bool):
    checks = []
    if published_only:
        checks.append(lambda m: m[0] == Status.PUBLISHED)
    for key, values in filters.items():
        i = _META[key]
        if key in ("category", "technology"):
            wanted = set(values)
            checks.append(lambda m, i=i, w=wanted: not w.isdisjoint(m[i]))
        elif key == "year":
            years = {int(v) for v in values if v.isdigit()}
            checks.append(lambda m, y=years: m[5] in y)
        elif key == "has_rules":
            flags = {v in ("true", "1", "yes") for v in values}
            checks.append(lambda m, f=flags: m[7] in f)
        else:
            wanted = set(values)
            checks.append(lambda m, i=i, w=wanted: m[i] in w)
    return lambda m: m is not None and all(c(m) for c in checks)


def _facet_counts(view: _View, docs) -> dict[str, dict[str, int]]:
    cats: Counter = Counter()
    techs: Counter = Counter()
    platforms: Counter = Counter()
    years: Counter = Counter()
    kinds: Counter = Counter()
    meta = view.meta
    for d in docs:
        m = meta[d]
        cats.update(m[2])
        techs.update(m[3])
        platforms[m[4]] += 1
        years[str(m[5])] += 1
        kinds[m[6]] += 1
    return {
        "category": cats,
        "technology": techs,
        "platform": platforms,
        "year": years,
        "source_kind": kinds,
    }


# --- Search ------------------------------------------------------------------------------------


def _groups(view: _View, parsed: ParsedQuery):
    """(label, {doc: score}, wanted stems) per query group."""
    groups = []
    for word in parsed.terms:
        ws = stems([word])
        scores: dict[int, float] = {}
        for s in ws:
            for d, v in view.term_scores(s).items():
                scores[d] = scores.get(d, 0.0) + v
        groups.append((word, scores, ws))
    for alias in parsed.aliases:
        groups.append(_alias_group(view, alias))
    for phrase in parsed.phrases:
        ws = stems(phrase)
        docs = view.phrase_docs(phrase)
        scores = {}
        for s in ws:
            for d, v in view.term_scores(s).items():
                if d in docs:
                    scores[d] = scores.get(d, 0.0) + v
        groups.append(('"' + " ".join(phrase) + '"', scores, ws))
    return groups


def _alias_group(view: _View, alias: AliasGroup):
    ws = stems(alias.words)
    scores = dict(view.tech_scores(alias.technology))
    text_docs = view.phrase_docs(alias.words) if len(alias.words) > 1 else None
    for s in ws:
        for d, v in view.term_scores(s).items():
            if text_docs is None or d in text_docs:
                scores[d] = scores.get(d, 0.0) + v
    return (" ".join(alias.words) or alias.label, scores, ws)


def search(
    parsed: ParsedQuery, *, page: int, per_page: int, highlight: bool, published_only: bool
) -> SearchResults:
    with STATE.lock:
        view = STATE.get()
        if view is None:
            return SearchResults([], 0, page, per_page, build_facets({}), None, parsed.text)
        return _search(view, parsed, page, per_page, highlight, published_only)


def _search(view, parsed, page, per_page, highlight, published_only) -> SearchResults:
    allowed = _predicate(parsed.filters, published_only)
    meta = view.meta
    excluded: set[int] = set()
    for words in parsed.excluded:
        excluded |= view.phrase_docs(words)
    groups = []
    if parsed.is_empty:
        docs = [d for d in view.alive if allowed(meta[d]) and d not in excluded]
        docs.sort(key=lambda d: (meta[d][5], meta[d][8], view.pk[d]), reverse=True)
        ranked = [(0.0, d) for d in docs[(page - 1) * per_page : page * per_page]]
        total = len(docs)
    else:
        groups = _groups(view, parsed)
        scores: dict[int, float] = {}
        matched: Counter = Counter()
        for _, g, _ in groups:
            for d, v in g.items():
                scores[d] = scores.get(d, 0.0) + v
                matched[d] += 1
        required = [set(g) for label, g, _ in groups if label.startswith('"')]
        docs = [
            d
            for d in scores
            if allowed(meta[d])
            and d not in excluded
            and all(d in r for r in required)
            and scores[d] > 0
        ]
        total = len(docs)
        n = len(groups)
        ranked = heapq.nlargest(
            page * per_page,
            ((scores[d] * (1 + COORD * matched[d] / n), d) for d in docs),
            key=lambda x: (x[0], -view.pk[x[1]]),
        )[(page - 1) * per_page :]
    facets = build_facets(_facet_counts(view, docs))
    suggestion = _suggest(view, parsed)
    stories = load_hits_stories([view.pk[d] for _, d in ranked], published_only=published_only)
    wanted = {s for _, _, ws in groups for s in ws}
    hits = []
    for score, d in ranked:
        story = stories.get(view.pk[d])
        if story is None:  # deleted or unpublished since the index was read
            continue
        terms = [label for label, g, _ in groups if d in g]
        hit = Hit(story=story, score=round(score, 4), matched_terms=terms)
        if highlight and wanted:
            hit.highlights = highlights(story, wanted)
        hits.append(hit)
    return SearchResults(hits, total, page, per_page, facets, suggestion, parsed.text)


def highlights(story, wanted: set[str]) -> dict[str, str]:
    out = {}
    for field in ("title", "symptom", "summary"):
        text = story.title if field == "title" else plain_text(getattr(story, field))
        frag = fragment(text, wanted, analyse, size=400 if field == "title" else 220)
        if frag:
            out[field] = frag
    return out


def _suggest(view: _View, parsed: ParsedQuery) -> str | None:
    from incidents.search.query import replace_word

    text = parsed.text
    changed = False
    for word in parsed.terms:
        if len(word) < 4 or not word.isalpha() or view.known_word(word):
            continue
        fix = view.speller().correct(word)
        if fix:
            parsed_text = replace_word(parsed, word, fix)
            parsed = ParsedQuery(text=parsed_text)
            text, changed = parsed_text, True
    return text if changed else None


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
            idf = math.log(1 + (view.count - df + 0.5) / (df + 0.5))
            scored.append((tf * idf, surface[s]))
        scored.sort(reverse=True)
        return [w for _, w in scored[:wanted_count]]
