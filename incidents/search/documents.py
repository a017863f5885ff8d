"""What gets indexed for a story, shared by both backends, and the result types they return.

Field groups and their weights (both backends use the same grouping):
    head     title, technology names and aliases, organisation      weight A / 3.0
    symptom  symptom and summary, category names                      weight B / 1.8
    body     contributing factors, fix, detection, impact             weight C / 1.0
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.text import slugify

from incidents.models import Platform, Provenance, SourceKind, Status, Story, StoryRule
from incidents.search.query import cjk_index_text

FACET_KEYS = ("category", "technology", "platform", "year", "source_kind", "provenance")


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
    pk: int
    slug: str
    version: int
    status: str
    head: str
    symptom: str
    body: str
    organisation: str  # slugified, for org: filters
    categories: tuple[str, ...]
    technologies: tuple[str, ...]
    platform: str
    year: int
    source_kind: str
    has_rules: bool
    sort_date: str  # ISO date or "" (newest-first browsing within a year)
    provenance: str = ""  # full | partial | listing: a filter, a facet and a tie-breaker

    @property
    def doc_hash(self) -> str:
        """Changes whenever anything indexed changes (also vocabulary or rule links)."""
        parts = [
            self.slug,
            self.status,
            self.head,
            self.symptom,
            self.body,
            self.organisation,
            ",".join(self.categories),
            ",".join(self.technologies),
            self.platform,
            str(self.year),
            self.source_kind,
            str(self.has_rules),
            self.sort_date,
            self.provenance,
        ]
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
    has_rules = getattr(story, "_has_rules", None)
    if has_rules is None:
        has_rules = StoryRule.objects.filter(story=story).exists()
    return StoryDoc(
        pk=story.pk,
        slug=story.slug,
        version=story.version,
        status=story.status,
        head=head,
        symptom=symptom,
        body=body,
        organisation=slugify(story.organisation),
        categories=tuple(c.slug for c in cats),
        technologies=tuple(t.slug for t in techs),
        platform=story.platform,
        year=story.year,
        source_kind=story.source_kind,
        has_rules=bool(has_rules),
        sort_date=story.sort_date.isoformat() if story.sort_date else "",
        provenance=story.provenance,
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


def _vocabulary_labels(key: str) -> dict[str, str]:
    """slug -> name for categories or technologies, cached briefly per process (labels only)."""
    now = time.monotonic()
    cached = _labels_cache.get(key)
    if cached is not None and now - cached[0] < _LABELS_TTL:
        return cached[1]
    from incidents.models import Category, Technology

    model = Category if key == "category" else Technology
    labels = dict(model.objects.values_list("slug", "name"))
    _labels_cache[key] = (now, labels)
    return labels


def facet_labels(key: str, values: Iterable[str]) -> dict[str, str]:
    """Human labels for facet values."""
    values = list(values)
    if key in ("category", "technology"):
        labels = _vocabulary_labels(key)
        if any(v not in labels for v in values):  # new vocabulary since cached
            _labels_cache.pop(key, None)
            labels = _vocabulary_labels(key)
        return {v: labels.get(v, v) for v in values}
    if key == "platform":
        return {v: str(Platform(v).label) for v in values if v in Platform.values}
    if key == "source_kind":
        return {v: str(SourceKind(v).label) for v in values if v in SourceKind.values}
    if key == "provenance":
        return {v: str(Provenance(v).label) for v in values if v in Provenance.values}
    return {v: v for v in values}


def build_facets(counts: dict[str, dict[str, int]]) -> dict[str, list[tuple[str, str, int]]]:
    """counts: facet key -> value -> count  =>  facet key -> [(value, label, count)], busiest first
    (years newest first)."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for key in FACET_KEYS:
        values = counts.get(key, {})
        labels = facet_labels(key, values)
        items = [(v, labels.get(v, v), n) for v, n in values.items() if n > 0]
        if key == "year":
            items.sort(key=lambda i: i[0], reverse=True)
        else:
            items.sort(key=lambda i: (-i[2], i[1].lower()))
        out[key] = items
    return out


SECTION_FIELDS = ("title", "symptom", "summary", "fix")
