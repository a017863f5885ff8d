"""What `export_stories` writes out: stories with their tags, the story-rule links and the
vocabulary, each in a stable order (by slug) so that exports diff cleanly."""

from __future__ import annotations

from django.db.models import QuerySet

from incidents.models import Category, Status, Story, StoryRule, Technology


def stories_for_export(*, published_only: bool) -> QuerySet[Story]:
    stories = Story.objects.prefetch_related("categories", "technologies").order_by("slug")
    return stories.filter(status=Status.PUBLISHED) if published_only else stories


def links_for_export(*, published_only: bool) -> QuerySet[StoryRule]:
    """Every StoryRule row (also of rules that left the registry), by story slug and rule ID."""
    links = StoryRule.objects.select_related("story", "rule").order_by(
        "story__slug", "rule__rule_id"
    )
    return links.filter(story__status=Status.PUBLISHED) if published_only else links


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("slug")


def technology_list() -> QuerySet[Technology]:
    return Technology.objects.order_by("slug")
