"""Reads. Views, the API and commands fetch stories and rules through these functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from incidents.models import Category, Rule, Status, Story, StoryRule, Technology


def story_list(*, published_only: bool = True) -> QuerySet[Story]:
    qs = Story.objects.all()
    if published_only:
        qs = qs.filter(status=Status.PUBLISHED)
    return qs.prefetch_related("categories", "technologies").order_by("-year", "title", "pk")


def story_get(*, slug: str, published_only: bool = True) -> Story | None:
    qs = Story.objects.prefetch_related(
        "categories",
        "technologies",
        Prefetch("rule_links", queryset=StoryRule.objects.select_related("rule")),
    )
    if published_only:
        qs = qs.filter(status=Status.PUBLISHED)
    return qs.filter(slug=slug).first()


def story_by_urls(urls: list[str]) -> dict[str, Story]:
    return {s.source_url: s for s in Story.objects.filter(source_url__in=urls)}


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name")


def technology_list() -> QuerySet[Technology]:
    return Technology.objects.order_by("name")


def rule_list(*, active_only: bool = True) -> QuerySet[Rule]:
    qs = Rule.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by("rule_id")


def story_links_for_rules(rule_ids: list[str]) -> dict[str, list[Story]]:
    """Published stories linked to each rule ID, for findings and rule pages."""
    out: dict[str, list[Story]] = {rid: [] for rid in rule_ids}
    links = (
        StoryRule.objects.filter(rule__rule_id__in=rule_ids, story__status=Status.PUBLISHED)
        .select_related("story", "rule")
        .only("rule__rule_id", "story__slug", "story__title", "story__organisation", "story__year")
        .order_by("rule__rule_id", "-story__year", "story__title")
    )
    for link in links:
        out[link.rule.rule_id].append(link.story)
    return out


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


def rule_story_notes(rule_ids: list[str]) -> dict[str, dict[str, str]]:
    """rule ID -> {story slug: curated note} for the published stories linked to each rule."""
    out: dict[str, dict[str, str]] = {rid: {} for rid in rule_ids}
    links = (
        StoryRule.objects.filter(rule__rule_id__in=rule_ids, story__status=Status.PUBLISHED)
        .select_related("story", "rule")
        .order_by("rule__rule_id", "-story__year", "story__title")
    )
    for link in links:
        out[link.rule.rule_id][link.story.slug] = link.note
    return out


def published_story_facts() -> dict[str, dict[str, Any]]:
    """slug -> title, organisation, year, source URL and page path of every published story.

    The exposure report needs them all at once (matching stories, and the list of stories
    without known conditions); one narrow query, no model instances.
    """
    rows = Story.objects.filter(status=Status.PUBLISHED).values_list(
        "slug", "title", "organisation", "year", "source_url"
    )
    return {
        slug: {
            "slug": slug,
            "title": title,
            "organisation": organisation,
            "year": year,
            "source_url": source_url,
            "path": reverse("incidents:story", args=[slug]),
        }
        for slug, title, organisation, year, source_url in rows
    }
