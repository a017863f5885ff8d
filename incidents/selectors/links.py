"""The story-rule links, both ways: one place answers "rules for a story" and "stories for a rule".

Story pages, rule pages, the rule catalog, the coverage overview, the dataset, the API and chat
replies all read links here. The rows are a mirror of `incidents/data/story_rules.yaml` (the
links' one owner, see `incidents.rules.links`) kept by `load_stories`. Only links to active
rules count (a rule that left the registry has no page to link to), and "stories" means
published stories.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch, prefetch_related_objects

from incidents.models import Status, Story, StoryRule


@dataclass(frozen=True, slots=True)
class LinkedStory:
    story: Story
    note: str


# What the pages, the API and chat show of a linked story (a rule can have hundreds).
LINKED_STORY_FIELDS = (
    "note",
    "rule__rule_id",
    "story__slug",
    "story__title",
    "story__organisation",
    "story__year",
    "story__status",
)


def rule_links_prefetch() -> Prefetch:
    """Prefetch a story list's links with their rules, for `rules_for_story` on each story."""
    return Prefetch(
        "rule_links",
        queryset=StoryRule.objects.filter(rule__active=True)
        .select_related("rule")
        .order_by("rule__rule_id"),
    )


def prefetch_rule_links(stories: list[Story], *also: str) -> list[Story]:
    """Fetch the links of stories already read (a search's hits) in one query, and the `also`
    relations named (e.g. "categories"), for `rules_for_story` on each.

    Relations every story already holds are skipped before Django's prefetch machinery, which
    otherwise builds a related manager per story and lookup to find that out (half a
    millisecond per API search whose stories came from the hit cache with their links), and the
    links' queryset is built only when some story lacks them (building it was a fifth of such a
    search)."""
    missing = [
        name
        for name in (*also, "rule_links")
        if any(name not in getattr(s, "_prefetched_objects_cache", ()) for s in stories)
    ]
    if missing:
        lookups = [rule_links_prefetch() if name == "rule_links" else name for name in missing]
        prefetch_related_objects(stories, *lookups)
    return stories


def rules_for_story(story: Story) -> list[StoryRule]:
    """The story's links to active rules (each with `.rule` and `.note`), by rule ID.

    Uses the prefetch of `rule_links_prefetch()` when the story came with it."""
    links = [link for link in story.rule_links.all() if link.rule.active]
    return sorted(links, key=lambda link: link.rule.rule_id)


def stories_for_rules(rule_ids: Iterable[str]) -> dict[str, list[LinkedStory]]:
    """rule ID -> the published stories linked to it with their notes, newest year first."""
    ids = list(rule_ids)
    out: dict[str, list[LinkedStory]] = {rule_id: [] for rule_id in ids}
    links = (
        StoryRule.objects.filter(
            rule__rule_id__in=ids, rule__active=True, story__status=Status.PUBLISHED
        )
        .select_related("story", "rule")
        .only(*LINKED_STORY_FIELDS)
        .order_by("rule__rule_id", "-story__year", "story__title", "story__pk")
    )
    for link in links:
        out[link.rule.rule_id].append(LinkedStory(link.story, link.note))
    return out


def stories_for_rule(rule_id: str) -> list[LinkedStory]:
    return stories_for_rules([rule_id])[rule_id]


def link_pairs() -> set[tuple[str, str]]:
    """Every (story slug, rule ID) link of a published story to an active rule."""
    return set(
        StoryRule.objects.filter(story__status=Status.PUBLISHED, rule__active=True).values_list(
            "story__slug", "rule__rule_id"
        )
    )


def rule_ids_by_story() -> dict[int, list[str]]:
    """story pk -> IDs of the active rules linked to it, for every published story."""
    out: dict[int, list[str]] = {}
    rows = (
        StoryRule.objects.filter(story__status=Status.PUBLISHED, rule__active=True)
        .order_by("rule__rule_id")
        .values_list("story_id", "rule__rule_id")
    )
    for story_id, rule_id in rows:
        out.setdefault(story_id, []).append(rule_id)
    return out
