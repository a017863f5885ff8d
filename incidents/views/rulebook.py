"""The rule library as the pages see it: registry metadata joined with the curated story links.

The registry (incidents.rules) is the source of truth for what a rule is; the links and their
notes come from `incidents.selectors` (rows mirrored from incidents/data/story_rules.yaml).
Imports of the rule engine are deferred so pages that never show a rule do not pay for loading
it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from incidents import selectors
from incidents.models import Story


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
    """Rules linked to a story, with their notes: errors first, then by ID."""
    reg = registry()
    refs = []
    for link in selectors.rules_for_story(story):
        rule = link.rule
        if rule.rule_id in reg:
            refs.append(_ref(reg.get(rule.rule_id), link.note))
        else:  # a row sync_rules has not caught up with: show what the row says
            refs.append(
                RuleRef(
                    rule.rule_id, rule.slug, rule.title, rule.severity, rule.kind, rule.summary,
                    link.note,
                )
            )  # fmt: skip
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(refs, key=lambda r: (order.get(r.severity, 3), r.id))


def catalog() -> list[RuleRef]:
    """Every registered rule with the first published stories behind it and their number.

    The catalog is cached and unpickled on every request: with 10,000 stories a rule can have
    hundreds of linked stories, so only the few the page names are kept, as plain links."""
    rules = registry().all()
    linked = selectors.stories_for_rules([r.id for r in rules])
    refs = []
    for meta in rules:
        ref = _ref(meta)
        ref.story_count = len(linked[meta.id])
        ref.stories = [
            StoryLink(item.story.get_absolute_url(), item.story.organisation, item.story.year)
            for item in linked[meta.id][:CATALOG_STORIES]
        ]
        refs.append(ref)
    return refs


def evidence_for(meta: Any) -> list[tuple[Story, str]]:
    """Published stories that show why a rule matters, each with its curated note."""
    return [(item.story, item.note) for item in selectors.stories_for_rule(meta.id)]
