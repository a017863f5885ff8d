"""What gets indexed for a story, shared by both backends, and the result types they return.

Text groups (their weights are declared in fields.TEXT_GROUPS):
    head     title, technology names and aliases, organisation
    symptom  symptom, summary (and the Chinese summary), category names
    body     contributing factors, fix, detection, impact
Filter, facet and sort values: one per declared field and sort key (fields.stored()), by name.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet

from incidents.models import Status, Story, StoryRule
from incidents.search import fields, hitcache
from incidents.search.query import cjk_index_text


@dataclass
class Hit:
    story: Story
    score: float
    highlights: dict[str, str] = field(default_factory=dict)  # field -> safe HTML (<mark> only)
    matched_terms: list[str] = field(default_factory=list)


@dataclass
class SearchResults:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[tuple[str, str, int]]]
    suggestion: str | None
    query: str
    # True when these are the results of `suggestion` because the query as typed found
    # (almost) nothing; `original` is then what was typed ("search instead for").
    corrected: bool = False
    original: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class StoryDoc:
    """What both backends index for a story: the weighted text groups (fields.TEXT_GROUPS) and
    the value of every declared filter/facet and sort key (fields.stored()) by name, in
    `values`."""

    pk: int
    slug: str
    version: int
    status: str
    head: str
    symptom: str
    body: str
    sort_date: str  # ISO date or "" (newest-first browsing within a year)
    values: dict[str, object] = field(default_factory=dict)  # field name -> value

    def value(self, name: str) -> object:
        """A declared field's or sort key's value (its empty value for one declared after
        indexing)."""
        if name in self.values:
            return self.values[name]
        declared = next((f for f in fields.stored() if f.name == name), None)
        return declared.empty() if declared is not None else ""

    @property
    def year(self) -> int:
        return int(self.value("year") or 0)

    @property
    def doc_hash(self) -> str:
        """Changes whenever anything indexed changes (also vocabulary or rule links)."""
        parts = [self.slug, self.status, self.head, self.symptom, self.body, self.sort_date]
        for f in fields.stored():
            parts.append(",".join(f.keys(self.value(f.name))))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


_FENCE_RE = re.compile(r"^\s*```\S*\s*$", re.MULTILINE)
_MD_RE = re.compile(r"`+|\*+|^\s*#+\s*|^\s*>\s*|^\s*[-+]\s+|\[|\]\([^)]*\)", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Markdown reduced to words for indexing and highlighting (no HTML is ever produced here).
    Code blocks keep their content: commands and error strings are what people search for."""
    text = _FENCE_RE.sub(" ", markdown or "")
    text = _MD_RE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def stories_for_indexing(ids: Iterable[int] | None = None) -> QuerySet[Story]:
    qs = Story.objects.all()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.prefetch_related("categories", "technologies").annotate(
        _has_rules=Exists(StoryRule.objects.filter(story=OuterRef("pk")))
    )


def story_doc(story: Story) -> StoryDoc:
    """Build the document from a story fetched by stories_for_indexing()."""
    techs = sorted(story.technologies.all(), key=lambda t: t.slug)
    cats = sorted(story.categories.all(), key=lambda c: c.slug)
    tech_words = []
    for tech in techs:
        tech_words.append(tech.name)
        tech_words.extend(str(a) for a in (tech.aliases or []))
    head = " ".join([story.title, story.organisation, " ; ".join(tech_words)])
    symptom = " ".join(
        [
            plain_text(story.symptom),
            plain_text(story.summary),
            plain_text(story.summary_zh),  # the optional Chinese summary: found by Chinese queries
            " ; ".join(f"{c.name} {c.name_zh}" for c in cats),
        ]
    )
    body = " ".join(
        plain_text(getattr(story, f))
        for f in ("contributing_factors", "fix", "detection", "impact")
    )
    # Scripts written without spaces (Chinese, Japanese, Korean) are indexed as character
    # bigrams, the same way queries are split (docs/search.md).
    head, symptom, body = (cjk_index_text(x) for x in (head, symptom, body))
    return StoryDoc(
        pk=story.pk,
        slug=story.slug,
        version=story.version,
        status=story.status,
        head=head,
        symptom=symptom,
        body=body,
        sort_date=story.sort_date.isoformat() if story.sort_date else "",
        values={f.name: f.value(story) for f in fields.stored()},
    )


def load_hits_stories(ids: list[int], *, published_only: bool) -> dict[int, Story]:
    """The page's stories with categories and technologies prefetched.

    Served from the worker's cache of stories for the current data version (search.hitcache)
    where it can be; the rest is read in one statement (`read_stories`). Each caller gets its
    own copies, which share the cached story's prefetched relations: what a caller prefetches
    on them (the API's rule links) is kept for the next page that shows the story."""
    if not ids:
        return {}
    ids = list(dict.fromkeys(ids))
    version = hitcache.current_version()
    found = hitcache.STORIES.get_many(ids, version)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        loaded = read_stories(missing)
        hitcache.STORIES.put_many(loaded.values(), version)
        found.update(loaded)
    return {
        pk: hitcache.clone(story)
        for pk, story in found.items()
        if not published_only or story.status == Status.PUBLISHED
    }


def read_stories(ids: list[int]) -> dict[int, Story]:
    """Stories by id with categories and technologies prefetched, in one statement.

    Every story column, and per story its categories and technologies as JSON arrays from
    correlated subqueries (json_agg on PostgreSQL, json_group_array on SQLite); the prefetch
    caches are filled directly. Building three ORM querysets (and, before that, Django's
    prefetch machinery) cost more than the rows they read, and on PostgreSQL each statement is a
    round trip."""
    conn = connections[Story.objects.db]
    sql, columns, relations = _hits_statement(conn.vendor, conn.alias, len(ids))
    with conn.cursor() as cur:
        cur.execute(sql, ids)
        rows = cur.fetchall()
    db = conn.alias
    stories: dict[int, Story] = {}
    width = len(columns)
    for row in rows:
        values = [
            value if value is None or not converters else _convert(value, converters, conn)
            for value, (_, converters) in zip(row, columns, strict=False)
        ]
        story = Story.from_db(db, [name for name, _ in columns], values)
        cache = story._prefetched_objects_cache = {}
        for (name, model, names, order), raw in zip(relations, row[width:], strict=True):
            objs = [model.from_db(db, names, values) for values in json.loads(raw or "[]")]
            objs.sort(key=lambda o, order=order: (*(getattr(o, f) for f in order), o.pk))
            manager_qs = getattr(story, name).all()
            manager_qs._result_cache = objs
            manager_qs._prefetch_done = True
            cache[name] = manager_qs
        stories[story.pk] = story
    return stories


def _convert(value, converters, conn):
    for converter, expression in converters:
        value = converter(value, expression, conn)
    return value


# Field types a prefetched vocabulary row may have: JSON carries their values as Python needs
# them (numbers, strings, and a JSON field's own value).
_JSON_SAFE = {
    "AutoField", "BigAutoField", "IntegerField", "PositiveIntegerField", "SmallIntegerField",
    "PositiveSmallIntegerField", "BigIntegerField", "CharField", "SlugField", "TextField",
    "URLField", "JSONField",
}  # fmt: skip
PREFETCHED = ("categories", "technologies")


@functools.lru_cache(maxsize=64)
def _hits_statement(vendor: str, alias: str, count: int) -> tuple[str, list, list]:
    """The statement for `count` ids, the story columns with their converters (backend's then
    field's, as the ORM applies them), and per prefetched relation (name, model, field names,
    ordering)."""
    conn = connections[alias]
    qn = conn.ops.quote_name
    table = Story._meta.db_table
    columns, select = [], []
    for f in Story._meta.concrete_fields:
        col = f.get_col(table)
        converters = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
        columns.append((f.attname, [(c, col) for c in converters]))
        select.append(f"s.{qn(f.column)}")
    relations = []
    for name in PREFETCHED:
        field = Story._meta.get_field(name)
        model = field.related_model
        fields_ = model._meta.concrete_fields
        for f in fields_:
            if f.get_internal_type() not in _JSON_SAFE:
                raise TypeError(f"load_hits_stories cannot carry {model.__name__}.{f.name} in JSON")
        through = field.remote_field.through._meta.db_table
        if vendor == "postgresql":
            items = ", ".join(f"r.{qn(f.column)}" for f in fields_)
            agg = f"coalesce(json_agg(json_build_array({items})), '[]')::text"
        else:
            items = ", ".join(
                f"json(r.{qn(f.column)})" if f.get_internal_type() == "JSONField"
                else f"r.{qn(f.column)}"
                for f in fields_
            )  # fmt: skip
            agg = f"json_group_array(json_array({items}))"
        select.append(
            f"(SELECT {agg} FROM {qn(through)} l JOIN {qn(model._meta.db_table)} r "
            f"ON r.{qn(model._meta.pk.column)} = l.{qn(field.m2m_reverse_name())} "
            f"WHERE l.{qn(field.m2m_column_name())} = s.{qn(Story._meta.pk.column)})"
        )
        order = [o for o in model._meta.ordering if isinstance(o, str) and not o.startswith("-")]
        relations.append((name, model, [f.attname for f in fields_], order))
    # Status is checked in Python, not in the WHERE clause: with it there SQLite (no ANALYZE
    # statistics) walks a status index over every published story instead of looking ids up.
    sql = (
        f"SELECT {', '.join(select)} FROM {qn(table)} s "
        f"WHERE s.{qn(Story._meta.pk.column)} IN ({', '.join(['%s'] * count)})"
    )
    return sql, columns, relations


_LABELS_TTL = 30.0
_labels_cache: dict[str, tuple[float, dict[str, str]]] = {}
_VOCABULARY_MODELS = {"category": "Category", "technology": "Technology"}


def _vocabulary_labels(key: str) -> dict[str, str]:
    """slug -> name for categories or technologies, cached briefly per process (labels only)."""
    now = time.monotonic()
    cached = _labels_cache.get(key)
    if cached is not None and now - cached[0] < _LABELS_TTL:
        return cached[1]
    from incidents import models

    model = getattr(models, _VOCABULARY_MODELS[key])
    labels = dict(model.objects.values_list("slug", "name"))
    _labels_cache[key] = (now, labels)
    return labels


def vocabulary_labels(key: str, values: list[str]) -> dict[str, str]:
    """Names of category or technology slugs (a slug unknown to the vocabulary stays itself)."""
    labels = _vocabulary_labels(key)
    if any(v not in labels for v in values):  # new vocabulary since cached
        _labels_cache.pop(key, None)
        labels = _vocabulary_labels(key)
    return {v: labels.get(v, v) for v in values}


def build_facets(counts: dict[str, dict[str, int]]) -> dict[str, list[tuple[str, str, int]]]:
    """counts: facet key -> value -> count  =>  facet key -> [(value, label, count)] in each
    field's facet order (fields.SearchField.sort_facet)."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for f in fields.facets():
        values = counts.get(f.name, {})
        labels = f.value_labels(values)
        items = [(v, labels.get(v, v), n) for v, n in values.items() if n > 0]
        f.sort_facet(items)
        out[f.name] = items
    return out
