"""Turn what a user typed into a structured query. No backend query parser ever sees raw input.

The grammar is deliberately small and cannot fail: every input parses.

    word            a term; terms are OR-ed, stories matching more of them rank higher
    "two words"     a phrase the story must contain
    -word, -"a b"   stories containing it are excluded
    field:value     a filter: org:, tech:, cat:, platform:, year:, kind:, rules:, provenance:
                    (see FIELD_NAMES)

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

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_FILTER_VALUES = 20

FILTER_KEYS = (
    "category", "technology", "platform", "year", "source_kind", "has_rules", "provenance",
)  # fmt: skip
# Filters that only the query syntax offers (org:zalando); also accepted in `filters`.
EXTRA_FILTER_KEYS = ("organisation",)

FIELD_NAMES = {
    "org": "organisation",
    "organisation": "organisation",
    "organization": "organisation",
    "company": "organisation",
    "tech": "technology",
    "technology": "technology",
    "cat": "category",
    "category": "category",
    "platform": "platform",
    "year": "year",
    "kind": "source_kind",
    "source": "source_kind",
    "source_kind": "source_kind",
    "rules": "has_rules",
    "has_rules": "has_rules",
    "provenance": "provenance",
    "read": "provenance",
}

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


def words(text: str) -> list[str]:
    """Lowercased word tokens: letters, digits, `_`, inner dots (resolv.conf).

    Splits on `-` and `:`."""
    return [w.replace("'", "") for w in _WORD_RE.findall(text.lower())]


@dataclass(frozen=True)
class AliasGroup:
    """Query words that name a technology: matched by the tech tag or by the words themselves."""

    technology: str  # slug
    label: str  # the technology's name, shown as the matched term
    words: tuple[str, ...]  # the words the user typed


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


def alias_table() -> dict[tuple[str, ...], tuple[str, str]]:
    """word tuple -> (technology slug, technology name), from Technology.name/slug/aliases.

    Cached for a few seconds per process: the vocabulary changes rarely, and a stale entry only
    affects ranking, never correctness of filters.
    """
    now = time.monotonic()
    with _alias_lock:
        table = _alias_cache["table"]
        if table is not None and now - float(_alias_cache["at"]) < _ALIAS_TTL:
            return table  # type: ignore[return-value]
    from incidents.models import Technology

    built: dict[tuple[str, ...], tuple[str, str]] = {}
    for slug, name, aliases in Technology.objects.values_list("slug", "name", "aliases"):
        for spelling in [name, slug, *(aliases or [])]:
            key = tuple(words(str(spelling)))
            # Single common words ("registry", "spot", "dashboard") stay plain terms: only
            # multi-word aliases, distinctive tokens and explicit names become alias groups.
            if not key or (len(key) == 1 and key[0] in STOPWORDS):
                continue
            built.setdefault(key, (slug, name))
    with _alias_lock:
        _alias_cache.update(at=now, table=built)
    return built


def clear_alias_cache() -> None:
    with _alias_lock:
        _alias_cache.update(at=0.0, table=None)


def _find_aliases(
    seq: list[str], table: Mapping[tuple[str, ...], tuple[str, str]]
) -> tuple[list[AliasGroup], list[str]]:
    """Greedy longest-match of alias word sequences in `seq`; returns groups and leftover words."""
    longest = max((len(k) for k in table), default=0)
    groups: list[AliasGroup] = []
    rest: list[str] = []
    i = 0
    while i < len(seq):
        for n in range(min(longest, len(seq) - i), 0, -1):
            key = tuple(seq[i : i + n])
            if key in table:
                slug, name = table[key]
                if all(g.technology != slug for g in groups):
                    groups.append(AliasGroup(slug, name, key))
                i += n
                break
        else:
            rest.append(seq[i])
            i += 1
    return groups, rest


# --- Parsing -------------------------------------------------------------------------------------


def _add_filter(filters: dict[str, list[str]], key: str, value: str) -> None:
    value = value.strip().lower()
    if not value:
        return
    bucket = filters.setdefault(key, [])
    if value not in bucket and len(bucket) < MAX_FILTER_VALUES:
        bucket.append(value)


def normalise_filters(filters: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, values in (filters or {}).items():
        if key not in FILTER_KEYS and key not in EXTRA_FILTER_KEYS:
            raise SearchQueryError(
                f"unknown search filter {key!r}; use one of {', '.join(FILTER_KEYS)}"
            )
        if isinstance(values, str):
            values = [values]
        for value in list(values)[:MAX_FILTER_VALUES]:
            _add_filter(out, key, str(value)[:100])
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
    plain: list[str] = []
    shown: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        neg = bool(m.group("neg"))
        fname = (m.group("field") or "").lower()
        if fname:
            value = m.group("fquoted") if m.group("fquoted") is not None else m.group("fvalue")
            key = FIELD_NAMES.get(fname)
            if key is not None and not neg:
                _add_filter(parsed.filters, key, value or "")
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
    if use_aliases and plain:
        groups, rest = _find_aliases(plain, alias_table())
    else:
        groups, rest = [], plain
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
