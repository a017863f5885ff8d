"""The rule library as the pages see it: registry metadata joined with the curated story links.

The registry (incidents.rules) is the source of truth for what a rule is; the database holds the
curated story-rule notes. Imports of the rule engine are deferred so pages that never show a rule
do not pay for loading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from incidents import selectors
from incidents.models import Status, Story, StoryRule


@dataclass
class RuleRef:
    """A rule as listed on a story page or in the catalog."""

    id: str
    slug: str
    title: str
    severity: str
    kind: str  # "manifest" or "runtime"
    summary: str = ""
    note: str = ""
    stories: list[Any] = field(default_factory=list)
    story_count: int = 0  # in the catalog: all the stories, of which `stories` are the first few
    url: str = ""

    def __post_init__(self) -> None:
        if not self.url:
            self.url = reverse("incidents:rule", args=[self.id])


@dataclass(frozen=True)
class StoryLink:
    """A story as the catalog links it: what the link shows, nothing more."""

    url: str
    organisation: str
    year: int


CATALOG_STORIES = 3  # stories named per rule in the catalog; the rest are counted


def registry():
    from incidents.rules.registry import REGISTRY

    return REGISTRY


def all_rules() -> list[Any]:
    return registry().all()


def _ref(meta: Any, note: str = "") -> RuleRef:
    return RuleRef(
        id=meta.id,
        slug=meta.slug,
        title=meta.title,
        severity=meta.severity.label,
        kind=meta.rule_type,
        summary=meta.checks,
        note=note,
    )


def rules_for_story(story: Story) -> list[RuleRef]:
    """Rules linked to a story: curated links (with their notes) and rules naming the story."""
    reg = registry()
    refs: dict[str, RuleRef] = {}
    for link in story.rule_links.all():
        rule = link.rule
        if rule.rule_id in reg:
            refs[rule.rule_id] = _ref(reg.get(rule.rule_id), link.note)
        elif rule.active:
            refs[rule.rule_id] = RuleRef(
                rule.rule_id, rule.slug, rule.title, rule.severity, rule.kind, rule.summary,
                link.note,
            )  # fmt: skip
    for meta in reg.filter(story=story.slug):
        refs.setdefault(meta.id, _ref(meta))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(refs.values(), key=lambda r: (order.get(r.severity, 3), r.id))


def catalog() -> list[RuleRef]:
    """Every registered rule with the first published stories behind it and their number.

    The catalog is cached and unpickled on every request: with 10,000 stories a rule can have
    hundreds of linked stories, so only the few the page names are kept, as plain links."""
    reg = registry()
    rules = reg.all()
    slugs = {slug for r in rules for slug in r.stories}
    by_slug = selectors.stories_by_slugs(slugs, fields=("title", "organisation", "year"))
    linked = selectors.story_links_for_rules([r.id for r in rules])
    refs = []
    for meta in rules:
        ref = _ref(meta)
        stories = {s.slug: s for s in linked.get(meta.id, [])}
        for slug in meta.stories:
            if slug in by_slug:
                stories.setdefault(slug, by_slug[slug])
        ref.story_count = len(stories)
        ref.stories = [
            StoryLink(s.get_absolute_url(), s.organisation, s.year)
            for s in list(stories.values())[:CATALOG_STORIES]
        ]
        refs.append(ref)
    return refs


def evidence_for(meta: Any) -> list[tuple[Story, str]]:
    """Published stories that show why a rule matters, each with its curated note if any."""
    notes = {
        link.story.slug: link.note
        for link in StoryRule.objects.filter(rule__rule_id=meta.id, story__status=Status.PUBLISHED)
        .select_related("story")
        .only("note", "story__slug")
    }
    slugs = list(dict.fromkeys([*meta.stories, *notes]))
    stories = selectors.stories_by_slugs(slugs, fields=("title", "organisation", "year"))
    return [(stories[s], notes.get(s, "")) for s in slugs if s in stories]


def story_resolver(request) -> Any:
    """A story_resolver for incidents.rules.formats: slug -> public facts, or None.

    The first lookup reads every story the registry's rules name in one query: a SARIF report
    describes every rule with its stories, and one query per slug was most of its time."""
    cache: dict[str, dict | None] = {}
    fields = ("title", "organisation", "year", "source_url")

    def facts(story: Story) -> dict:
        return {
            "slug": story.slug,
            "title": story.title,
            "organisation": story.organisation,
            "year": story.year,
            "source_url": story.source_url,
            "url": request.build_absolute_uri(story.get_absolute_url()),
        }

    def resolve(slug: str) -> dict | None:
        if not cache:
            named = {s for rule in all_rules() for s in rule.stories}
            found = selectors.stories_by_slugs(named, fields=fields)
            cache.update({s: facts(found[s]) if s in found else None for s in named})
        if slug not in cache:
            story = selectors.stories_by_slugs([slug], fields=fields).get(slug)
            cache[slug] = facts(story) if story else None
        return cache[slug]

    return resolve
