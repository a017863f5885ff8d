"""Turn what a user typed into a structured query. No backend query parser ever sees raw input.

The grammar is deliberately small and cannot fail: every input parses.

    word            a term; terms are OR-ed, stories matching more of them rank higher
    "two words"     a phrase the story must contain
    -word, -"a b"   stories containing it are excluded
    field:value     a filter: org:, tech:, cat:, platform:, year:, kind:, rules:, read: ...
                    (the names and aliases declared in incidents.search.fields)

Technology aliases from the vocabulary (Technology.aliases, e.g. "exit code 137" -> oom-killer,
"bad gateway" -> http-5xx) are recognised in the term sequence and become alias groups: a story
matches the group when it is tagged with the technology or contains the words.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from incidents.search import fields as search_fields

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_FILTER_VALUES = 20

# Common English words that carry no meaning for ranking (both backends drop them as well; we
# drop them first so they do not count as "terms the story failed to match").
STOPWORDS = frozenset(
    re.split(
        r"\s+",
        """
        a about after all also an and any are as at be been before but by can could did do does
        doing during each for from had has have how i if in into is it its just me more most my
        no nor not of off on once only or other our out over same should so some such than that
        the their them then there these they this those through to too under until up very was
        we were what when where which while who why will with would you your
        """.strip(),
    )
)

_TOKEN_RE = re.compile(
    r"""(?P<neg>-)?(?:
        (?P<field>[A-Za-z_]+):(?:"(?P<fquoted>[^"]*)"?|(?P<fvalue>[^\s"]+))
      | "(?P<phrase>[^"]*)"?
      | (?P<word>[^\s"]+)
    )""",
    re.VERBOSE,
)
_WORD_RE = re.compile(r"\w(?:[\w.']*\w)?")
# Han, kana and Hangul: scripts written without spaces between words (CJK generally).
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUN_RE = re.compile(f"[{CJK}]+")
_SCRIPT_SPLIT_RE = re.compile(f"[{CJK}]+|[^{CJK}]+")


def is_cjk(word: str) -> bool:
    return bool(_CJK_RUN_RE.fullmatch(word))


def words(text: str) -> list[str]:
    """Lowercased word tokens: letters, digits, `_`, inner dots (resolv.conf).

    Splits on `-` and `:`, and where CJK and other scripts meet ("cpu节流" -> cpu, 节流)."""
    out = []
    for w in _WORD_RE.findall(text.lower()):
        w = w.replace("'", "")
        if _CJK_RUN_RE.search(w):
            out.extend(p for p in _SCRIPT_SPLIT_RE.findall(w) if _WORD_RE.fullmatch(p))
        else:
            out.append(w)
    return out


def bigrams(run: str) -> list[str]:
    """A CJK run as overlapping character bigrams (a single character stays as it is): how
    both backends index and match text in scripts written without spaces."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def cjk_index_text(text: str) -> str:
    """Text with every CJK run replaced by its bigrams, spaced: what the backends index."""
    if not _CJK_RUN_RE.search(text):
        return text
    return _CJK_RUN_RE.sub(lambda m: " " + " ".join(bigrams(m.group())) + " ", text)


def index_form(form: tuple[str, ...]) -> tuple[str, ...]:
    """A word sequence as the index holds it (CJK words as their bigrams)."""
    out: list[str] = []
    for w in form:
        out.extend(bigrams(w) if is_cjk(w) else [w])
    return tuple(out)


@dataclass(frozen=True)
class AliasGroup:
    """Query words that name a technology or a vocabulary term: matched by the tech tag (when
    there is one), by the words themselves or by any other form of the same term."""

    technology: str | None  # slug; None for a vocabulary term or a CJK word sequence
    label: str  # the technology's name (or the term's first form), shown as the matched term
    words: tuple[str, ...]  # the words the user typed
    forms: tuple[tuple[str, ...], ...] = ()  # other spellings that mean the same (vocabulary)

    def text_forms(self) -> list[tuple[str, ...]]:
        """Every word sequence that matches this group in a story's text, as the index holds
        it (CJK words as bigrams), the typed words first."""
        out: list[tuple[str, ...]] = []
        for form in (self.words, *self.forms):
            f = index_form(form)
            if f and f not in out:
                out.append(f)
        return out

    @property
    def shown(self) -> str:
        return " ".join(self.words) or self.label


@dataclass
class ParsedQuery:
    text: str = ""  # normalised query, suitable for display and "did you mean"
    terms: list[str] = field(default_factory=list)  # single words, OR-ed
    aliases: list[AliasGroup] = field(default_factory=list)  # also OR-ed
    phrases: list[tuple[str, ...]] = field(default_factory=list)  # required
    excluded: list[tuple[str, ...]] = field(default_factory=list)  # words or phrases
    filters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """No text to rank by: a browse (filters may still apply)."""
        return not (self.terms or self.aliases or self.phrases)

    @property
    def group_count(self) -> int:
        return len(self.terms) + len(self.aliases) + len(self.phrases)


class SearchQueryError(ValueError):
    """Programming error in a call to search(): an unknown filter key."""


# --- Technology aliases --------------------------------------------------------------------------

_ALIAS_TTL = 30.0
_alias_lock = threading.Lock()
_alias_cache: dict[str, object] = {"at": 0.0, "table": None}


# An alias table entry: (technology slug or None, label, the other forms of a vocabulary term).
AliasEntry = tuple[str | None, str, tuple[tuple[str, ...], ...]]


@dataclass
class Vocabulary:
    """What the query side knows of the vocabulary, rebuilt together and cached briefly."""

    aliases: dict[tuple[str, ...], AliasEntry]
    cjk_words: frozenset[str]  # CJK words of aliases and terms: the segmentation dictionary
    cjk_longest: int
    translations: dict[str, tuple[str, ...]]  # CJK term -> its term's first non-CJK form
    words: dict[str, int]  # single alphabetic words of the vocabulary (for spelling)
    longest_alias: int = 0  # words in the longest alias: how far _find_aliases looks ahead
    _speller: object = None

    def speller(self):
        """Did-you-mean over the vocabulary's own words (cryptominer, kubespray, ...), which
        the stories may spell differently or not at all."""
        if self._speller is None:
            from incidents.search.spelling import Speller

            self._speller = Speller(self.words.items())
        return self._speller


def alias_table() -> dict[tuple[str, ...], AliasEntry]:
    """word tuple -> (technology slug, technology name, ()) from Technology.name/slug/aliases,
    and -> (None, first form, all forms) for the term sets of the vocabulary file."""
    return vocabulary().aliases


def vocabulary() -> Vocabulary:
    """Cached for a few seconds per process: the vocabulary changes rarely, and a stale entry
    only affects ranking, never correctness of filters."""
    now = time.monotonic()
    with _alias_lock:
        vocab = _alias_cache["table"]
        if vocab is not None and now - float(_alias_cache["at"]) < _ALIAS_TTL:
            return vocab  # type: ignore[return-value]
    from incidents.models import Technology

    built: dict[tuple[str, ...], AliasEntry] = {}
    for slug, name, aliases in Technology.objects.values_list("slug", "name", "aliases"):
        for spelling in [name, slug, *(aliases or [])]:
            key = tuple(words(str(spelling)))
            # Single common words ("registry", "spot", "dashboard") stay plain terms: only
            # multi-word aliases, distinctive tokens and explicit names become alias groups.
            if not key or (len(key) == 1 and key[0] in STOPWORDS):
                continue
            built.setdefault(key, (slug, name, ()))
    translations: dict[str, tuple[str, ...]] = {}
    for forms in term_sets():
        keys = [k for k in (tuple(words(f)) for f in forms) if k]
        if not keys:
            continue
        english = next((k for k in keys if not any(is_cjk(w) for w in k)), None)
        label = " ".join(english or keys[0])
        for key in keys:
            built.setdefault(key, (None, label, tuple(keys)))
            if english is not None and len(key) == 1 and is_cjk(key[0]):
                translations.setdefault(key[0], english)
    cjk = frozenset(w for key in built for w in key if is_cjk(w))
    spell: dict[str, int] = {}
    for key in built:
        for w in key:
            if w.isalpha() and not is_cjk(w) and len(w) >= 4:
                spell[w] = spell.get(w, 0) + 1
    vocab = Vocabulary(
        aliases=built,
        cjk_words=cjk,
        cjk_longest=max((len(w) for w in cjk), default=0),
        translations=translations,
        words=spell,
        longest_alias=max((len(k) for k in built), default=0),
    )
    with _alias_lock:
        _alias_cache.update(at=now, table=vocab)
    return vocab


def term_sets() -> list[list[str]]:
    """The `terms` block of the vocabulary file: sets of spellings that mean the same in a
    search (word forms, compounds, Chinese terms of the field)."""
    import yaml

    from incidents.storyfiles import DATA_DIR

    path = DATA_DIR / "vocabulary.yaml"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return []
    cached = _terms_cache.get(str(path))
    if cached is not None and cached[0] == mtime:
        return cached[1]
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sets = [[str(f) for f in entry] for entry in data.get("terms") or [] if entry]
    _terms_cache[str(path)] = (mtime, sets)
    return sets


_terms_cache: dict[str, tuple[float, list[list[str]]]] = {}


def clear_alias_cache() -> None:
    with _alias_lock:
        _alias_cache.update(at=0.0, table=None)


def segment(run: str, vocab: Vocabulary) -> list[tuple[str, bool]]:
    """A CJK run split by forward maximum matching against the vocabulary's CJK words:
    [(piece, known)]. Unknown stretches stay together (matched as bigram sequences)."""
    out: list[tuple[str, bool]] = []
    rest = ""
    i = 0
    while i < len(run):
        for n in range(min(vocab.cjk_longest, len(run) - i), 0, -1):
            if run[i : i + n] in vocab.cjk_words:
                if rest:
                    out.append((rest, False))
                    rest = ""
                out.append((run[i : i + n], True))
                i += n
                break
        else:
            rest += run[i]
            i += 1
    if rest:
        out.append((rest, False))
    return out


def _find_aliases(
    seq: list[str],
    table: Mapping[tuple[str, ...], AliasEntry],
    translated: frozenset[int],
    longest: int,
) -> tuple[list[AliasGroup], list[str]]:
    """Greedy longest-match of alias word sequences in `seq` (none longer than `longest` words,
    which the vocabulary keeps); returns groups and leftover words.

    A term set's CJK forms are matched only when the user typed CJK (positions `translated`):
    an English word whose only other forms are Chinese stays a plain word (one lexeme, ranked
    from the postings on PostgreSQL)."""
    groups: list[AliasGroup] = []
    rest: list[str] = []
    i = 0
    while i < len(seq):
        for n in range(min(longest, len(seq) - i), 0, -1):
            key = tuple(seq[i : i + n])
            if key in table:
                slug, name, forms = table[key]
                if slug is None:
                    from_cjk = any(j in translated for j in range(i, i + n))
                    others = tuple(
                        f for f in forms if f != key and (from_cjk or not any(is_cjk(w) for w in f))
                    )
                    if not others:
                        rest.extend(key)
                    elif all(g.technology or g.label != name for g in groups):
                        groups.append(AliasGroup(None, name, key, others))
                elif all(g.technology != slug for g in groups):
                    groups.append(AliasGroup(slug, name, key))
                i += n
                break
        else:
            rest.append(seq[i])
            i += 1
    return groups, rest


def _cjk_words(
    seq: list[str], vocab: Vocabulary
) -> tuple[list[str], list[AliasGroup], frozenset[int]]:
    """Segment the CJK words of `seq`: known terms are translated to their English form (so
    "cpu 限制" meets the alias "cpu limit"), technology aliases stay as they are, and unknown
    stretches become bigram sequences matched in the text (single unknown characters, mostly
    particles, are dropped unless they are the whole query)."""
    out: list[str] = []
    unknown: list[AliasGroup] = []
    translated: set[int] = set()
    for w in seq:
        if not is_cjk(w):
            out.append(w)
            continue
        for piece, known in segment(w, vocab):
            if known:
                english = vocab.translations.get(piece, (piece,))
                translated.update(range(len(out), len(out) + len(english)))
                out.extend(english)
            elif len(piece) > 1 or (len(seq) == 1 and len(w) == 1):
                grams = tuple(bigrams(piece))
                if len(grams) == 1:
                    out.append(grams[0])
                else:
                    unknown.append(AliasGroup(None, piece, grams))
    return out, unknown, frozenset(translated)


# --- Parsing -------------------------------------------------------------------------------------


def _add_filter(filters: dict[str, list[str]], field: search_fields.SearchField, raw: str) -> None:
    """Add a filter value in its canonical form (fields.SearchField.parse). A value that can
    match nothing (`year:abc`) still adds the key, with no value: the filter matches nothing."""
    # Control characters are dropped like in the query text: PostgreSQL refuses a NUL in any
    # string parameter (a 500 for `?category=%00dns`), and no vocabulary value holds one.
    if not raw.isprintable():
        raw = "".join(ch for ch in raw if ch.isprintable())
    if not raw.strip():
        return
    value = field.parse(raw)
    bucket = filters.setdefault(field.name, [])
    if value is not None and value not in bucket and len(bucket) < MAX_FILTER_VALUES:
        bucket.append(value)


def normalise_filters(filters: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, values in (filters or {}).items():
        declared = search_fields.get(key)
        if declared is None:
            names = ", ".join(f.name for f in search_fields.all_fields())
            raise SearchQueryError(f"unknown search filter {key!r}; use one of {names}")
        if isinstance(values, str):
            values = [values]
        for value in list(values)[:MAX_FILTER_VALUES]:
            _add_filter(out, declared, str(value)[:100])
    return out


def parse(
    query: str,
    filters: Mapping[str, list[str]] | None = None,
    *,
    use_aliases: bool = True,
) -> ParsedQuery:
    """Parse user input (any string) into a ParsedQuery. Never raises for any `query`."""
    text = (query or "")[:MAX_QUERY_CHARS]
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    parsed = ParsedQuery(filters=normalise_filters(filters))
    query_names = search_fields.by_query_name()
    plain: list[str] = []
    shown: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        neg = bool(m.group("neg"))
        fname = (m.group("field") or "").lower()
        if fname:
            value = m.group("fquoted") if m.group("fquoted") is not None else m.group("fvalue")
            declared = query_names.get(fname)
            if declared is not None and not neg:
                _add_filter(parsed.filters, declared, value or "")
                if value:
                    shown.append(f'{fname}:"{value}"' if " " in value else f"{fname}:{value}")
                continue
            # Not a known field: the whole thing is ordinary words ("ndots:5" -> ndots 5).
            ws = words(f"{fname} {value or ''}")
        elif m.group("phrase") is not None:
            ws = [w for w in words(m.group("phrase")) if w]
            if len(ws) > 1:
                target = parsed.excluded if neg else parsed.phrases
                if tuple(ws) not in target:
                    target.append(tuple(ws))
                shown.append(("-" if neg else "") + '"' + " ".join(ws) + '"')
                continue
        else:
            ws = words(m.group("word") or "")
        if neg:
            for w in ws:
                if (w,) not in parsed.excluded and w not in STOPWORDS:
                    parsed.excluded.append((w,))
                    shown.append("-" + w)
            continue
        plain.extend(ws)
        shown.extend(ws)
    groups: list[AliasGroup] = []
    if use_aliases and plain:
        vocab = vocabulary()
        plain, groups, translated = _cjk_words(plain, vocab)
        found, rest = _find_aliases(plain, vocab.aliases, translated, vocab.longest_alias)
        groups = found + groups
    else:
        rest = [w for w in plain if not is_cjk(w)]
        for w in plain:
            if is_cjk(w):
                rest.extend(bigrams(w))
    parsed.aliases = groups[:MAX_TERMS]
    seen = set()
    for w in rest:
        if w in STOPWORDS or w in seen:
            continue
        seen.add(w)
        parsed.terms.append(w)
    parsed.terms = parsed.terms[: max(0, MAX_TERMS - len(parsed.aliases))]
    parsed.phrases = parsed.phrases[:8]
    parsed.excluded = parsed.excluded[:8]
    parsed.text = " ".join(shown)[:MAX_QUERY_CHARS]
    return parsed


def replace_word(parsed: ParsedQuery, old: str, new: str) -> str:
    """The normalised query text with one word corrected (for "did you mean")."""
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?!\w)", new, parsed.text, count=1)
