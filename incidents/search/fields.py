"""The searchable story, declared once: every filter and facet, and the weighted text groups.

Everything that filters, counts or ranks stories is built from this module:

- the document builder (`documents.story_doc`) reads each field's value from the story;
- the query parser (`query.parse`) maps the query syntax names (`cat:dns`) and parses values;
- the Whoosh store keeps the values by name and the Whoosh backend makes a document set per
  value; the PostgreSQL backend makes one column per field (its type from `kind`), its filter
  clause and its facet count;
- the API's query parameters, its `facets` object and so the OpenAPI schema
  (`incidents/api/filters.py`, `serializers.py`), and the search page's facet boxes
  (`incidents/views/find.py`);
- the orders results come in (ORDERINGS, the API's `ordering`) and the sort keys that are
  not filters (SORT_KEYS), which both backends store with each document and sort by.

Adding a filter: one `SearchField` in FIELDS (and, when the story does not have the value yet,
the model field and its migration). `docs/search.md` ("Adding a filter") walks through it.
Tests may add a field for their duration with `declared()`.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC

from django.db import models
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import get_language, gettext_lazy

from incidents.models import Platform, Provenance, SourceKind


class Kind(enum.Enum):
    """How a field's value is stored, parsed and compared."""

    KEYWORD = "keyword"  # one string (lower case)
    TAGS = "tags"  # several strings (slugs)
    INTEGER = "integer"  # one whole number
    BOOLEAN = "boolean"  # true or false


TRUE_WORDS = ("true", "1", "yes")


@dataclass(frozen=True)
class ApiParam:
    """How the field is offered as an API query parameter (its OpenAPI type follows `kind`)."""

    help_text: str = ""
    max_values: int = 20
    minimum: int | None = None  # INTEGER only
    maximum: int | None = None


@dataclass(frozen=True)
class SearchField:
    """One filter (and, with `facet`, one facet) of the search.

    name      the filter and facet key, the document attribute and the API parameter name
    value     reads the value from a story fetched by `documents.stories_for_indexing()`
              (a tuple of slugs for TAGS)
    aliases   names in the query syntax (`tech:coredns`); the name itself is always one
    facet     the facet's legend on the search page; None for a filter that is not counted
    choices   the allowed values (their labels label the facet); None: any value
    labels    value -> label for facet values, when the labels live elsewhere (vocabulary)
    api       the API query parameter; None: offered only in the query syntax
    """

    name: str
    kind: Kind
    value: Callable[[object], object]
    aliases: tuple[str, ...] = ()
    facet: str | Promise | None = None
    choices: type[models.TextChoices] | None = None
    labels: Callable[[str, list[str]], dict[str, str]] | None = None
    api: ApiParam | None = None

    def __post_init__(self) -> None:
        # The name is also a PostgreSQL column and a query parameter.
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", self.name):
            raise ValueError(f"search field name {self.name!r}: use [a-z][a-z0-9_]*")

    def parse(self, raw: str) -> str | None:
        """A filter value as typed -> its canonical form, or None if it can match nothing."""
        value = raw.strip().lower()
        if self.kind is Kind.BOOLEAN:
            return "true" if value in TRUE_WORDS else "false"
        if self.kind is Kind.INTEGER:
            return (
                str(int(value)) if value.isascii() and value.isdigit() and len(value) <= 4 else None
            )
        return value or None

    def keys(self, value: object) -> tuple[str, ...]:
        """The canonical values a document's value is found under (several for TAGS)."""
        if self.kind is Kind.TAGS:
            return tuple(str(v) for v in value or ())
        if self.kind is Kind.BOOLEAN:
            return ("true" if value else "false",)
        return (str(value if value is not None else ""),)

    def empty(self) -> object:
        """The value of a document indexed before the field existed."""
        return {Kind.TAGS: (), Kind.INTEGER: 0, Kind.BOOLEAN: False}.get(self.kind, "")

    def value_labels(self, values: Iterable[str]) -> dict[str, str]:
        values = list(values)
        if self.labels is not None:
            return self.labels(self.name, values)
        if self.choices is not None:
            known = _choice_labels(self.choices, get_language())
            return {v: known[v] for v in values if v in known}
        return {v: v for v in values}

    def sort_facet(self, items: list[tuple[str, str, int]]) -> None:
        """Years (any number) newest first; other values busiest first, then by label."""
        if self.kind is Kind.INTEGER:
            items.sort(key=lambda i: int(i[0]) if i[0].lstrip("-").isdigit() else 0, reverse=True)
        else:
            items.sort(key=lambda i: (-i[2], i[1].lower()))


@functools.cache
def _choice_labels(choices: type[models.TextChoices], language: str | None) -> dict[str, str]:
    """value -> label of a choice set in one language: facet labels are built on every search,
    and translating each label afresh was a good part of that."""
    return {value: str(label) for value, label in choices.choices}


def _vocabulary_labels(name: str, values: list[str]) -> dict[str, str]:
    from incidents.search.documents import vocabulary_labels

    return vocabulary_labels(name, values)


def _has_rules(story) -> bool:
    has_rules = getattr(story, "_has_rules", None)
    if has_rules is None:
        from incidents.models import StoryRule

        has_rules = StoryRule.objects.filter(story=story).exists()
    return bool(has_rules)


def _vocabulary(name: str, rel: str, alias: str, legend: Promise, help_text: str) -> SearchField:
    """A field of vocabulary slugs (categories, technologies), labelled with their names."""
    return SearchField(
        name,
        Kind.TAGS,
        lambda story: tuple(sorted(x.slug for x in getattr(story, rel).all())),
        aliases=(alias,),
        facet=legend,
        labels=_vocabulary_labels,
        api=ApiParam(help_text),
    )


def _choice(name: str, choices: type[models.TextChoices], legend: Promise, **kwargs) -> SearchField:
    """A faceted story attribute with fixed choices (their labels label the facet)."""
    kwargs.setdefault("api", ApiParam())
    value = operator.attrgetter(name)
    return SearchField(name, Kind.KEYWORD, value, facet=legend, choices=choices, **kwargs)


FIELDS: tuple[SearchField, ...] = (
    _vocabulary(
        "category",
        "categories",
        "cat",
        gettext_lazy("Category"),
        "Category slug(s); repeat or comma-separate for any of several.",
    ),
    _vocabulary(
        "technology", "technologies", "tech", gettext_lazy("Technology"), "Technology slug(s)."
    ),
    _choice("platform", Platform, gettext_lazy("Platform")),
    SearchField(
        "year",
        Kind.INTEGER,
        lambda story: story.year,
        facet=gettext_lazy("Year"),
        api=ApiParam(minimum=2014, maximum=2100),
    ),
    _choice("source_kind", SourceKind, gettext_lazy("Source"), aliases=("kind", "source")),
    _choice(
        "provenance",
        Provenance,
        gettext_lazy("Source read"),
        aliases=("read",),
        api=ApiParam(
            "How much of the source a record rests on: full, partial or listing.", max_values=3
        ),
    ),
    SearchField(
        "has_rules",
        Kind.BOOLEAN,
        _has_rules,
        aliases=("rules",),
        api=ApiParam("true: only stories a rule is linked to; false: only stories without."),
    ),
    SearchField(
        "organisation",
        Kind.KEYWORD,
        lambda story: slugify(story.organisation),
        aliases=("org", "organization", "company"),
    ),
)

_declared: list[tuple[SearchField, ...]] = [FIELDS]


def all_fields() -> tuple[SearchField, ...]:
    """The fields in force (FIELDS, plus any a test declared)."""
    return _declared[-1]


def facets() -> tuple[SearchField, ...]:
    return tuple(f for f in all_fields() if f.facet is not None)


def api_fields() -> tuple[SearchField, ...]:
    return tuple(f for f in all_fields() if f.api is not None)


def get(name: str) -> SearchField | None:
    return next((f for f in all_fields() if f.name == name), None)


def by_query_name() -> dict[str, SearchField]:
    """Query syntax name -> field (`cat` and `category` -> the category field)."""
    out: dict[str, SearchField] = {}
    for f in all_fields():
        for alias in (f.name, *f.aliases):
            out.setdefault(alias, f)
    return out


@contextlib.contextmanager
def declared(*extra: SearchField) -> Iterator[tuple[SearchField, ...]]:
    """Search with `extra` fields added to FIELDS for the duration (tests)."""
    names = {f.name for f in FIELDS}
    if any(f.name in names for f in extra):
        raise ValueError("a declared field's name is already taken")
    _declared.append((*FIELDS, *extra))
    try:
        yield _declared[-1]
    finally:
        _declared.pop()


# --- Orders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    """A story value results can be ordered by that is not a filter (a filter's value orders by
    its name too, e.g. `year`). Stored with every document like a field's value (Whoosh: in the
    stored metadata; PostgreSQL: a text column), as a string that orders by its code points
    (PostgreSQL compares it COLLATE "C"), so that both backends order alike whatever the
    database's locale."""

    name: str
    value: Callable[[object], str]
    kind: Kind = Kind.KEYWORD

    def keys(self, value: object) -> tuple[str, ...]:
        return (str(value or ""),)

    def empty(self) -> str:
        return ""


def _published_at(story) -> str:
    """UTC, fixed width (microseconds always written), so the strings order as the times do;
    "" (never published) orders before every time."""
    at = story.published_at
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") if at else ""


SORT_KEYS: tuple[SortKey, ...] = (
    SortKey("title", lambda story: story.title.lower()),
    SortKey("published_at", _published_at),
)

RELEVANCE = "relevance"
# An order: (document value, descending) pairs, most significant first. A document value is a
# declared field's or sort key's name, "sort_date" or "id" (the story id); every order ends with
# the id, so no two stories tie and pages of one order never overlap or skip a story. Empty
# values ("", no date) order before any other value.
NEWEST: tuple[tuple[str, bool], ...] = (("year", True), ("sort_date", True), ("id", True))
ORDERINGS: dict[str, tuple[tuple[str, bool], ...]] = {
    RELEVANCE: (),  # by score, best first; without query words (browsing) NEWEST
    "-year": (("year", True), ("title", False), ("id", False)),
    "year": (("year", False), ("title", False), ("id", False)),
    "title": (("title", False), ("id", False)),
    "-title": (("title", True), ("id", True)),
    "-published_at": (("published_at", True), ("id", False)),
}


def stored() -> tuple[SearchField | SortKey, ...]:
    """Every value a document stores by name: the fields in force, then the sort keys."""
    return (*all_fields(), *SORT_KEYS)


# --- Text ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextGroup:
    """A weighted group of the story's text (what `documents.story_doc` puts in it is described
    there): Whoosh multiplies its BM25F term frequency by `boost`, PostgreSQL gives it the
    tsvector weight `pg_weight`, whose rank is `pg_rank` (ts_rank's weights array)."""

    name: str
    boost: float
    pg_weight: str
    pg_rank: float


TEXT_GROUPS: tuple[TextGroup, ...] = (
    TextGroup("head", 3.0, "A", 1.0),  # title, technology names and aliases, organisation
    TextGroup("symptom", 1.8, "B", 0.6),  # symptom, summary (+ Chinese summary), categories
    TextGroup("body", 1.0, "C", 0.33),  # contributing factors, fix, detection, impact
)
_PG_RANKS = {g.pg_weight: g.pg_rank for g in TEXT_GROUPS}
# ts_rank's weights array, in its order {D, C, B, A} (D is unused).
PG_RANK_WEIGHTS = "{" + ", ".join(str(_PG_RANKS.get(w, 0.1)) for w in "DCBA") + "}"
