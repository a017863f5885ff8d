"""Counts and lists for browsing: the home page, story lists, the overview, feeds and sitemaps.

Only published stories count. These read the database every time; the pages keep what is the
same for every reader once per data version (`incidents.pagecache`, in the views).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, TypedDict

from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate

from incidents.models import Category, Status, Story, Technology
from incidents.selectors.stories import story_list

PUBLISHED_LINK = Q(stories__status=Status.PUBLISHED)


class BrowseCounts(TypedDict):
    categories: dict[int, int]  # category id -> published stories (only those with some)
    technologies: dict[int, int]
    platforms: dict[str, int]
    stories: int
    organisations: int
    newest: list[int]  # story ids, most recently published first


def _published() -> QuerySet[Story]:
    return Story.objects.filter(status=Status.PUBLISHED)


def _per_vocabulary(model: type[Category] | type[Technology]) -> dict[int, int]:
    rows = model.objects.annotate(n=Count("stories", filter=PUBLISHED_LINK)).filter(n__gt=0)
    return dict(rows.values_list("pk", "n"))


def newest_story_ids(limit: int) -> list[int]:
    """Published most recently first, by day; a batch published the same day (the curated
    load) shows its most recent failures first rather than the alphabetical load order."""
    rows = (
        _published()
        .annotate(published_day=TruncDate("published_at"))
        .order_by(
            F("published_day").desc(nulls_last=True),
            "-year",
            F("published_date").desc(nulls_last=True),
            "title",
        )
        .values_list("pk", flat=True)
    )
    return list(rows[:limit])


def browse_counts(*, newest: int) -> BrowseCounts:
    """Published stories per category, technology and platform, the number of stories and of
    organisations, and the `newest` most recently published story ids."""
    published = _published()
    return {
        "categories": _per_vocabulary(Category),
        "technologies": _per_vocabulary(Technology),
        "platforms": published_counts("platform"),
        "stories": published.count(),
        "organisations": published.values("organisation").distinct().count(),
        "newest": newest_story_ids(newest),
    }


def published_counts(field: str) -> dict[Any, int]:
    """Value of a story column (`year`, `platform`, `source_kind`) -> published stories."""
    return dict(_published().values_list(field).annotate(n=Count("id")).order_by())


def categories_by_ids(ids: Iterable[int]) -> list[Category]:
    """These categories, by name."""
    return list(Category.objects.filter(pk__in=list(ids)).order_by("name"))


def technologies_by_ids(ids: Iterable[int]) -> list[Technology]:
    """These technologies, by name."""
    return sorted(Technology.objects.filter(pk__in=list(ids)), key=lambda t: t.name)


def category_get(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def technology_get(*, slug: str) -> Technology | None:
    return Technology.objects.filter(slug=slug).first()


def stories_by_ids(ids: Iterable[int]) -> list[Story]:
    """The published stories with these ids, in the order given (tags prefetched)."""
    ids = list(ids)
    by_pk = {s.pk: s for s in story_list().filter(pk__in=ids)}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def stories_sharing_tags(story: Story, *, limit: int) -> list[Story]:
    """Other published stories sharing the most technologies and categories with `story`."""
    cats = [c.pk for c in story.categories.all()]
    techs = [t.pk for t in story.technologies.all()]
    rows = (
        story_list()
        .exclude(pk=story.pk)
        .annotate(
            shared=Count("technologies", filter=Q(technologies__in=techs), distinct=True)
            + Count("categories", filter=Q(categories__in=cats), distinct=True)
        )
        .filter(shared__gt=0)
        .order_by("-shared", "-year", "title")
    )
    return list(rows[:limit])


def published_story_rows() -> list[tuple[str, str, str, int]]:
    """(slug, title, organisation, year) of every published story (no model instances)."""
    return list(_published().values_list("slug", "title", "organisation", "year"))


def sitemap_story_rows() -> QuerySet:
    """Published stories' slug and updated_at as named rows, by slug: a queryset the sitemap
    pages through (model instances were most of a page's time)."""
    return _published().order_by("slug").values_list("slug", "updated_at", named=True)


def published_last_modified() -> datetime.datetime | None:
    """When a published story last changed."""
    return _published().aggregate(m=Max("updated_at"))["m"]


def vocabulary_by_slug(
    category_ids: Iterable[int], technology_ids: Iterable[int]
) -> list[Category | Technology]:
    """These categories, then these technologies, each by slug."""
    cats = Category.objects.filter(pk__in=list(category_ids)).order_by("slug")
    techs = Technology.objects.filter(pk__in=list(technology_ids)).order_by("slug")
    return [*cats, *techs]


def newest_published(*, limit: int, category: Category | None = None) -> list[Story]:
    """The `limit` most recently published stories (of one category), for the feeds."""
    stories = story_list()
    if category is not None:
        stories = stories.filter(categories=category)
    return list(stories.order_by("-published_at", "-year", "title")[:limit])
