"""Rule reads: the registry's rules filtered and looked up, each joined with its linked stories
(and, for one rule, its examples) for the API and chat. The registry is imported on first use,
so pages that never show a rule do not load the rule engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from incidents.models import Rule
from incidents.selectors.links import LinkedStory, stories_for_rules


@dataclass
class RuleView:
    """A rule with what the database knows about it: the published stories linked to it."""

    rule: Any  # incidents.rules.base.RuleMeta
    stories: list[LinkedStory]
    failing_examples: list[Any] = field(default_factory=list)  # incidents.rules.examples.Example
    passing_examples: list[Any] = field(default_factory=list)


def rules_synced() -> bool:
    """Whether `sync_rules` has written the rule rows (links need them)."""
    return Rule.objects.exists()


def _registry():
    from incidents.rules.registry import REGISTRY

    return REGISTRY


def rule_list(
    *, rule_type: str | None = None, severity: str | None = None, kind: str | None = None
) -> list[Any]:
    """Registered rules, manifest checks first, by ID; each filter is an exact match."""
    return [
        r
        for r in _registry().filter(rule_type=rule_type, kind=kind)
        if severity is None or r.severity.label == severity
    ]


def rule_lookup(key: str) -> Any | None:
    """A rule by ID (any case) or slug, or None."""
    from incidents.rules.registry import UnknownRule

    try:
        return _registry().lookup(key)
    except UnknownRule:
        return None


def rule_views(rules: Iterable[Any], *, examples: bool = False) -> list[RuleView]:
    """The rules with their linked stories (one query) and, with `examples`, their fixtures."""
    rules = list(rules)
    linked = stories_for_rules([r.id for r in rules])
    views = [RuleView(rule, linked[rule.id]) for rule in rules]
    if examples:
        from incidents.rules.examples import examples_for

        for view in views:
            found = examples_for(view.rule.id)
            view.failing_examples = [e for e in found if e.fails]
            view.passing_examples = [e for e in found if not e.fails]
    return views
