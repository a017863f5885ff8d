"""Story reads: lists, one story, stories by slug, and the story lookup for reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from incidents.models import Category, Status, Story, Technology
from incidents.selectors.links import rule_links_prefetch

StoryFacts = dict[str, Any]


def story_list(
    *,
    published_only: bool = True,
    category: Category | None = None,
    technology: Technology | None = None,
    platform: str | None = None,
) -> QuerySet[Story]:
    """Stories (of one category, technology or platform), newest year first, then by title."""
    qs = Story.objects.all()
    if published_only:
        qs = qs.filter(status=Status.PUBLISHED)
    if category is not None:
        qs = qs.filter(categories=category)
    if technology is not None:
        qs = qs.filter(technologies=technology)
    if platform is not None:
        qs = qs.filter(platform=platform)
    return qs.prefetch_related("categories", "technologies").order_by("-year", "title", "pk")


def story_with_source_url_exists(url: str) -> bool:
    """Whether a story (any status) has exactly this source URL."""
    return Story.objects.filter(source_url=url).exists()


def story_get(*, slug: str, published_only: bool = True) -> Story | None:
    qs = Story.objects.prefetch_related("categories", "technologies", rule_links_prefetch())
    if published_only:
        qs = qs.filter(status=Status.PUBLISHED)
    return qs.filter(slug=slug).first()


def stories_by_slugs(
    slugs: Iterable[str], *, published_only: bool = True, fields: Sequence[str] = ()
) -> dict[str, Story]:
    """Stories keyed by slug, for resolving the story slugs a rule or a finding names; `fields`
    limits the columns read.

    Looked up by slug alone and filtered by status here: with `status = 'published'` in the same
    WHERE clause SQLite (which has no statistics unless ANALYZE ran) walks a status index over
    every published story instead of the slug index, 10,000 rows for a handful of slugs."""
    qs = Story.objects.filter(slug__in=list(slugs))
    if fields:
        qs = qs.only("slug", "status", *fields)
    return {s.slug: s for s in qs if not published_only or s.status == Status.PUBLISHED}


def published_story_facts(slugs: Iterable[str] | None = None) -> dict[str, StoryFacts]:
    """slug -> title, organisation, year, source URL and page path of published stories (all of
    them, or those named): one narrow query, no model instances."""
    if slugs is None:
        qs = Story.objects.filter(status=Status.PUBLISHED)
    else:  # by slug alone, status checked below (see stories_by_slugs)
        qs = Story.objects.filter(slug__in=list(slugs))
    rows = qs.values_list("slug", "title", "organisation", "year", "source_url", "status")
    return {
        slug: {
            "slug": slug,
            "title": title,
            "organisation": organisation,
            "year": year,
            "source_url": source_url,
            "path": reverse("incidents:story", args=[slug]),
        }
        for slug, title, organisation, year, source_url, status in rows
        if status == Status.PUBLISHED
    }


class StoryLookup:
    """The story lookup check and exposure reports render with (`incidents.rules.formats`):
    slug -> {slug, title, organisation, year, source_url, url} of a published story, or None.

    The web check page and the API's check and exposure endpoints share it; `kbcheck`, which
    runs without a database, reads the story files instead (`incidents.rules.stories`).
    """

    def __init__(self, facts: dict[str, StoryFacts], absolute: Callable[[str], str]):
        self.facts = facts
        self._absolute = absolute

    def __call__(self, slug: str) -> StoryFacts | None:
        story = self.facts.get(slug)
        if story is None:
            return None
        return {**story, "url": self._absolute(story["path"])}


def story_resolver(
    *, absolute: Callable[[str], str], slugs: Iterable[str] | None = None
) -> StoryLookup:
    """A StoryLookup over the named published stories (one query), or over all of them.
    `absolute` turns a site path into the URL printed in the report."""
    return StoryLookup(published_story_facts(slugs), absolute)


def report_story_resolver(*, absolute: Callable[[str], str]) -> StoryLookup:
    """The lookup check reports render with: every story a registered rule links to, read in
    one query (a SARIF report describes every rule with its stories, not only those with
    findings)."""
    from incidents.rules.registry import REGISTRY

    return story_resolver(
        absolute=absolute, slugs={slug for rule in REGISTRY.all() for slug in rule.stories}
    )
