"""What both backends share: the backend interface, the query plan and the result builder.

A search runs in three steps:
1. `plan()` turns a parsed query into query groups (each user word, technology alias or
   vocabulary term, and required phrase is one group; see `Group`), exclusions and filters;
2. the backend's `execute(plan)` finds and scores the matches and orders them (by score, or by
   the stored values `plan.order` names): it returns the page's story ids with their scores and
   which groups each matched, the total and the facet counts (its own storage and scoring,
   nothing else); only the page is read, in whatever order;
3. `run()` builds the SearchResults: loads the page's stories, names the matched terms, asks
   the backend for highlights of HIGHLIGHT_FIELDS, and finds a did-you-mean with `suggest()`.

Scores follow one formula on both backends: each group scores idf(group) times its weighted,
length-normalised term frequency (BM25F in Whoosh, ts_rank in PostgreSQL), and a story's score
is the sum of its groups' times (1 + COORD * share of the groups it matched).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from incidents.models import Story
from incidents.search import fields
from incidents.search.documents import (
    Hit,
    SearchResults,
    build_facets,
    load_hits_stories,
    plain_text,
)
from incidents.search.query import ParsedQuery, SearchQueryError, replace_word, vocabulary
from incidents.search.spelling import distance

COORD = 1.0  # final = sum of group scores * (1 + COORD * share of query groups matched)
HIGHLIGHT_FIELDS = ("title", "symptom", "summary")
MAX_EDITS = 2  # a did-you-mean is at most this many edits away


def idf(n: int, df: int) -> float:
    """BM25's inverse document frequency of a group found in `df` of `n` stories."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Group:
    """One unit of ranking: a story matches it through any of its `forms` (word sequences as the
    index holds them, the typed words first) or, for a technology alias, by its tag."""

    label: str  # shown as a matched term
    forms: tuple[tuple[str, ...], ...]
    technology: str | None = None
    required: bool = False  # a quoted phrase: stories without it do not match


@dataclass
class QueryPlan:
    parsed: ParsedQuery
    groups: list[Group]
    page: int = 1
    per_page: int = 10
    highlight: bool = True
    published_only: bool = True
    ordering: str = fields.RELEVANCE  # a name of fields.ORDERINGS

    def __post_init__(self) -> None:
        if self.ordering not in fields.ORDERINGS:
            raise SearchQueryError(f"unknown ordering {self.ordering!r}")

    @property
    def order(self) -> tuple[tuple[str, bool], ...]:
        """The stored values the page is ordered by, (name, descending) pairs; () for by score,
        best first (ties: the fuller record, then the newest story id)."""
        if self.ordering == fields.RELEVANCE:
            return () if self.groups else fields.NEWEST
        return fields.ORDERINGS[self.ordering]

    @property
    def excluded(self) -> list[tuple[str, ...]]:
        return self.parsed.excluded

    @property
    def filters(self) -> dict[str, list[str]]:
        return self.parsed.filters

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def plan(parsed: ParsedQuery, **options) -> QueryPlan:
    """The groups of a parsed query: its words, then its aliases and terms, then its phrases
    (group i is bit i of a hit's `matched`)."""
    groups = [Group(word, ((word,),)) for word in parsed.terms]
    groups += [
        Group(alias.shown, tuple(alias.text_forms()), alias.technology) for alias in parsed.aliases
    ]
    groups += [
        Group('"' + " ".join(phrase) + '"', (phrase,), required=True) for phrase in parsed.phrases
    ]
    return QueryPlan(parsed, groups, **options)


@dataclass
class Ranked:
    """What a backend's execute() returns."""

    page: list[tuple[int, float, int]]  # (story id, score, bit i set: group i matched), in order
    total: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> value -> count


class SearchBackend(Protocol):
    """What `incidents.search` needs of a backend module (whoosh_backend, postgres_backend)."""

    def execute(self, plan: QueryPlan) -> Ranked | None:
        """The page in `plan.order` (by score when empty), total and facet counts; None when
        there is no index at all."""

    def highlight(self, plan: QueryPlan, hits: list[Hit]) -> None:
        """Set each hit's highlights: field of HIGHLIGHT_FIELDS -> safe HTML, <mark> only."""

    def known_words(self, words: list[str]) -> set[str]:
        """Those of `words` that the index holds (never corrected)."""

    def spelling_candidates(self, word: str) -> dict[str, int]:
        """Indexed words near `word` -> how many stories hold each."""

    def term_document_frequency(self, word: str) -> int: ...

    def more_like_this_terms(self, story: Story) -> list[str]: ...

    def index_ids(self, ids: Iterable[int]) -> None: ...

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> int: ...

    def index_exists(self) -> bool: ...

    def indexed_versions(self) -> dict[int, tuple[int, str]]: ...

    def index_size_bytes(self) -> int: ...


def run(backend: SearchBackend, query_plan: QueryPlan) -> SearchResults:
    parsed = query_plan.parsed
    ranked = backend.execute(query_plan)
    page, per_page = query_plan.page, query_plan.per_page
    if ranked is None:
        return SearchResults([], 0, page, per_page, build_facets({}), None, parsed.text)
    stories = load_hits_stories(
        [pk for pk, _, _ in ranked.page], published_only=query_plan.published_only
    )
    hits = []
    for pk, score, matched in ranked.page:
        story = stories.get(pk)
        if story is None:  # deleted or unpublished since the index was read
            continue
        labels = [g.label for i, g in enumerate(query_plan.groups) if matched >> i & 1]
        hits.append(Hit(story=story, score=round(score, 4), matched_terms=labels))
    if query_plan.highlight and query_plan.groups and hits:
        backend.highlight(query_plan, hits)
    suggestion = suggest(backend, parsed)
    facets = build_facets(ranked.counts)
    return SearchResults(hits, ranked.total, page, per_page, facets, suggestion, parsed.text)


def highlight_text(name: str, value: str) -> str:
    """The plain text of a highlighted field, from the story's value of it."""
    return value if name == "title" else plain_text(value)


def suggest(backend: SearchBackend, parsed: ParsedQuery) -> str | None:
    """The query with each unknown word replaced by the nearest known one ("did you mean"):
    the fewest edits, then the word more stories hold. Known are the indexed words and the
    vocabulary's own (cryptominer, kubespray), which the stories may not contain."""
    candidates = [w for w in parsed.terms if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return None
    vocab = vocabulary()
    known = backend.known_words(candidates) | set(vocab.words)
    text, changed = parsed.text, False
    for word in candidates:
        if word in known:
            continue
        found = backend.spelling_candidates(word)
        fix = vocab.speller().correct(word)
        if fix:  # counted once, as in the index's own count
            found[fix] = found.get(fix, 0) + 1
        ranked = sorted((distance(word, w), -n, w) for w, n in found.items())
        if ranked and ranked[0][0] <= MAX_EDITS:
            text = replace_word(ParsedQuery(text=text), word, ranked[0][2])
            changed = True
    return text if changed else None
