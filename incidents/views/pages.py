"""Reads that only the pages need (counts for browsing, newest stories, related stories).

Shared reads live in incidents.selectors; these are page-shaped aggregates kept next to the views
that use them so a page's queries can be read in one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import HttpRequest

from incidents import selectors
from incidents.models import Category, Platform, Status, Story, Technology

logger = logging.getLogger(__name__)

PUBLISHED = Q(stories__status=Status.PUBLISHED)


@dataclass(frozen=True)
class Facet:
    """One browsable value with its number of published stories."""

    slug: str
    name: str
    count: int
    url: str


def categories_with_counts() -> list[Facet]:
    rows = Category.objects.annotate(n=Count("stories", filter=PUBLISHED)).filter(n__gt=0)
    return [Facet(c.slug, c.name, c.n, c.get_absolute_url()) for c in rows.order_by("name")]


def technologies_with_counts(limit: int | None = None) -> list[Facet]:
    rows = (
        Technology.objects.annotate(n=Count("stories", filter=PUBLISHED))
        .filter(n__gt=0)
        .order_by("-n", "name")
    )
    if limit:
        rows = rows[:limit]
    return [Facet(t.slug, t.name, t.n, t.get_absolute_url()) for t in rows]


def platforms_with_counts() -> list[Facet]:
    from django.urls import reverse

    counts = dict(
        Story.objects.filter(status=Status.PUBLISHED)
        .values_list("platform")
        .annotate(n=Count("id"))
        .values_list("platform", "n")
    )
    return [
        Facet(value, label, counts[value], reverse("incidents:platform", args=[value]))
        for value, label in Platform.choices
        if counts.get(value)
    ]


def newest_stories(limit: int = 6) -> list[Story]:
    """Published most recently first, by day; a batch published the same day (the curated
    load) shows its most recent failures first rather than the alphabetical load order."""
    return list(
        selectors.story_list()
        .annotate(published_day=TruncDate("published_at"))
        .order_by(F("published_day").desc(nulls_last=True), "-year", "-date", "title")[:limit]
    )


def related_stories(story: Story, limit: int = 5) -> list[tuple[Story, list[str]]]:
    """Stories like this one: the search engine's more-like-this, or shared tags without it.

    Related stories are a courtesy, so a search backend failure degrades to the tag overlap
    instead of breaking the story page.
    """
    from incidents import search

    try:
        return [(s, list(terms)) for s, terms in search.more_like_this(story, limit)]
    except Exception:  # any backend failure: fall back, but say so in the log
        logger.warning("more_like_this failed for %s; using shared tags", story.slug, exc_info=True)
    cats = [c.pk for c in story.categories.all()]
    techs = [t.pk for t in story.technologies.all()]
    rows = (
        selectors.story_list()
        .exclude(pk=story.pk)
        .annotate(
            shared=Count("technologies", filter=Q(technologies__in=techs), distinct=True)
            + Count("categories", filter=Q(categories__in=cats), distinct=True)
        )
        .filter(shared__gt=0)
        .order_by("-shared", "-year", "title")[:limit]
    )
    return [(s, []) for s in rows]


def paginate(request: HttpRequest, items: QuerySet | list, per_page: int) -> Page:
    """The page named by ?page=, clamped into range (a bad number is not an error page)."""
    paginator = Paginator(items, per_page)
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    number = min(max(number, 1), paginator.num_pages)
    return paginator.page(number)
