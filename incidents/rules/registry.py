"""The explicit rule registry: every rule, by ID and slug. No discovery, no import side effects.

`REGISTRY` is filled from the explicit lists in `incidents.rules.builtin` (manifest rules) and
`incidents.rules.runtime` (PromQL rules). Registering refuses a malformed rule, a duplicate ID or
slug, and an ID listed in `RETIRED_IDS`: IDs of removed rules are never given out again.

Adding a rule: write `builtin/<slug_with_underscores>.py` defining `RULE`, add the module to the
list in `builtin/__init__.py`, add fixtures under `tests/rules/fixtures/<ID>/` and a link in
`incidents/data/story_rules.yaml`. docs/rules.md has the details.

A rule's `stories` are not written in its module: `_build` attaches them from the curated links
file (`incidents.rules.links`), the one place story-rule links live.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from incidents.rules.base import RULE_ID, RUNTIME_RULE_ID, SLUG, Rule, RuleMeta, RuntimeRule

# IDs that belonged to removed rules. Never delete from this set; never reuse these IDs.
RETIRED_IDS: frozenset[str] = frozenset()


class RegistryError(ValueError):
    pass


class UnknownRule(KeyError):
    """No rule has this ID or slug."""


class Registry:
    def __init__(self, retired: Iterable[str] = ()):
        self._by_id: dict[str, RuleMeta] = {}
        self._by_slug: dict[str, RuleMeta] = {}
        self._retired = frozenset(retired)

    def register(self, rule: RuleMeta) -> RuleMeta:
        problems = validate(rule)
        if rule.id in self._retired:
            problems.append(f"ID {rule.id} belonged to a removed rule and is never reused")
        if rule.id in self._by_id:
            problems.append(f"duplicate ID {rule.id}")
        if rule.slug in self._by_slug:
            problems.append(f"duplicate slug {rule.slug}")
        if problems:
            raise RegistryError(f"cannot register {rule.id or rule!r}: " + "; ".join(problems))
        self._by_id[rule.id] = rule
        self._by_slug[rule.slug] = rule
        return rule

    def all(self) -> list[RuleMeta]:
        return sorted(self._by_id.values(), key=lambda r: (r.rule_type != "manifest", r.id))

    def get(self, rule_id: str) -> RuleMeta:
        try:
            return self._by_id[rule_id]
        except KeyError:
            raise UnknownRule(rule_id) from None

    def get_by_slug(self, slug: str) -> RuleMeta:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise UnknownRule(slug) from None

    def lookup(self, id_or_slug: str) -> RuleMeta:
        """A rule by ID (case-insensitive) or slug."""
        key = id_or_slug.strip()
        rule = self._by_id.get(key.upper()) or self._by_slug.get(key.lower())
        if rule is None:
            raise UnknownRule(id_or_slug)
        return rule

    def filter(
        self,
        *,
        rule_type: str | None = None,
        kind: str | None = None,
        story: str | None = None,
        min_severity=None,
    ) -> list[RuleMeta]:
        return [
            r
            for r in self.all()
            if (rule_type is None or r.rule_type == rule_type)
            and (kind is None or kind in r.kinds)
            and (story is None or story in r.stories)
            and (min_severity is None or r.severity >= min_severity)
        ]

    def manifest_rules(self) -> list[Rule]:
        return [r for r in self.all() if isinstance(r, Rule)]

    def runtime_rules(self) -> list[RuntimeRule]:
        return [r for r in self.all() if isinstance(r, RuntimeRule)]

    def __contains__(self, id_or_slug: object) -> bool:
        return id_or_slug in self._by_id or id_or_slug in self._by_slug

    def __iter__(self) -> Iterator[RuleMeta]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._by_id)


def validate(rule: RuleMeta) -> list[str]:
    """Problems with a rule's metadata (empty when it is well formed)."""
    problems = []
    id_pattern = RUNTIME_RULE_ID if isinstance(rule, RuntimeRule) else RULE_ID
    if not id_pattern.match(rule.id or ""):
        problems.append(f"ID {rule.id!r} does not match {id_pattern.pattern}")
    if not SLUG.match(rule.slug or ""):
        problems.append(f"slug {rule.slug!r} is not lowercase-with-dashes")
    for name in ("title", "checks", "why", "fix", "fix_example"):
        if not str(getattr(rule, name) or "").strip():
            problems.append(f"{name} is empty")
    if not rule.references:
        problems.append("no references")
    if not rule.stories and not rule.reports:
        problems.append("links to no story and cites no public incident report")
    if set(rule.reports) - set(rule.references):
        problems.append("a report that is not among the references")
    if isinstance(rule, Rule):
        if (rule.check is None) == (rule.check_input is None):
            problems.append("needs exactly one of check / check_input")
        if not rule.kinds:
            problems.append("applies to no object kind")
    if isinstance(rule, RuntimeRule) and not rule.expr.strip():
        problems.append("runtime rule without expr")
    return problems


def _build() -> Registry:
    from incidents.rules.builtin import RULES
    from incidents.rules.links import StoryLinks, read_links
    from incidents.rules.runtime import RUNTIME_RULES

    links = StoryLinks(read_links())
    registry = Registry(retired=RETIRED_IDS)
    for rule in (*RULES, *RUNTIME_RULES):
        registry.register(replace(rule, stories=links.stories_for_rule(rule.id)))
    return registry


REGISTRY = _build()
