"""What gets indexed for a story, shared by both backends, and the result types they return.

Text groups (their weights are declared in fields.TEXT_GROUPS):
    head     title, technology names and aliases, organisation
    symptom  symptom, summary (and the Chinese summary), category names
    body     contributing factors, fix, detection, impact
Filter, facet and sort values: one per declared field and sort key (fields.stored()), by name.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet

from incidents.models import Status, Story, StoryRule
from incidents.search import fields
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

    Three flat queries (stories, then each M2M's rows joined to the vocabulary as plain values)
    and the prefetch caches filled directly: Django's prefetch machinery costs about twice as
    much for a page of hits, and this runs on every search."""
    if not ids:
        return {}
    # Status checked here, not in the WHERE clause: with it there SQLite (no ANALYZE statistics)
    # walks a status index over every published story instead of looking the ids up.
    qs = Story.objects.filter(pk__in=ids)
    stories = {s.pk: s for s in qs if not published_only or s.status == Status.PUBLISHED}
    if not stories:
        return stories
    for rel in ("categories", "technologies"):
        field = Story._meta.get_field(rel)
        model = field.related_model
        names = [f.attname for f in model._meta.concrete_fields]
        target = field.m2m_reverse_field_name()
        rows = field.remote_field.through.objects.filter(story_id__in=list(stories)).values_list(
            "story_id", *(f"{target}__{n}" for n in names)
        )
        related: dict[int, list] = {pk: [] for pk in stories}
        for row in rows:
            related[row[0]].append(model.from_db(qs.db, names, row[1:]))
        order = [o for o in model._meta.ordering if isinstance(o, str) and not o.startswith("-")]
        for pk, story in stories.items():
            objs = related[pk]
            objs.sort(key=lambda o, order=order: (*(getattr(o, f) for f in order), o.pk))
            manager_qs = getattr(story, rel).all()
            manager_qs._result_cache = objs
            manager_qs._prefetch_done = True
            story._prefetched_objects_cache = getattr(story, "_prefetched_objects_cache", {})
            story._prefetched_objects_cache[field.name] = manager_qs
    return stories


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
