"""Exposure conditions: what a cluster must have for a story's failure to be possible there.

Curated in `incidents/data/exposure.yaml`, one entry per story, each condition citing where it
comes from (a release note, CVE, upstream issue or pull request, or the story's own source,
written `story`). A condition is one of:

- `component` with an `affected` version range and/or `fixed_in` (the first fixed release of
  each stable branch), or `contains` (a substring of the reported value, for OS images), or
  `absent: true` (the story applies where the component is missing, e.g. NodeLocal DNSCache);
- `platform`: one of the platforms the nodes report (eks, gke, aks, aws, gcp, azure, on-premise);
- `rule`: a manifest rule ID that must find something in the snapshot's objects;
- `env`: an environment variable of a component's container that must not have a value
  (`not`), e.g. the Amazon VPC CNI's external SNAT switch.

`match: all` (the default) needs every condition; `match: any` needs one (talks that bundle
several incidents). Stories without an entry have no known conditions; the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from incidents.exposure.snapshot import COMPONENTS, PLATFORMS
from incidents.exposure.versions import Range, Version, parse_range, parse_version

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "exposure.yaml"
STORY_SOURCE = "story"


class ConditionError(ValueError):
    """The curated file is malformed; the message names the story and the condition."""


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str  # component | platform | rule | env
    why: str
    sources: tuple[str, ...]
    component: str = ""
    affected: Range = field(default_factory=Range)
    fixed_in: tuple[Version, ...] = ()
    contains: str = ""
    absent: bool = False
    platforms: tuple[str, ...] = ()
    rule: str = ""
    env_name: str = ""
    env_not: str = ""

    def describe(self) -> str:
        if self.kind == "rule":
            from incidents.rules.registry import REGISTRY

            return f"{self.rule} ({REGISTRY.get(self.rule).title}) flags an object"
        if self.kind == "platform":
            return "runs on " + " or ".join(self.platforms)
        if self.kind == "env":
            return f"{self.component} runs with {self.env_name} not set to {self.env_not!r}"
        if self.absent:
            return f"no {self.component} in the cluster"
        parts = [self.component]
        if self.contains:
            parts.append(f"reports {self.contains!r}")
        if self.affected.text:
            parts.append(self.affected.text)
        if self.fixed_in:
            parts.append("without the fix of " + ", ".join(v.raw for v in self.fixed_in))
        return " ".join(parts) if len(parts) > 1 else f"{self.component} present"


@dataclass(frozen=True, slots=True)
class StoryExposure:
    slug: str
    match: str  # all | any
    summary: str
    conditions: tuple[Condition, ...]


def _sources(story: str, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw] if raw else []
    sources = tuple(str(s).strip() for s in items if str(s).strip())
    for source in sources:
        if source != STORY_SOURCE and not source.startswith("https://"):
            raise ConditionError(f"{story}: source {source!r} must be an https URL or 'story'")
    if not sources:
        raise ConditionError(f"{story}: every condition cites at least one source")
    return sources


def _condition(story: str, raw: Any, known_rules: set[str] | None) -> Condition:
    if not isinstance(raw, dict):
        raise ConditionError(f"{story}: a condition must be a mapping")
    why = str(raw.get("why") or "").strip()
    if not why:
        raise ConditionError(f"{story}: every condition says why it matters (`why`)")
    sources = _sources(story, raw.get("sources"))
    if "rule" in raw:
        rule = str(raw["rule"]).strip().upper()
        if known_rules is not None and rule not in known_rules:
            raise ConditionError(f"{story}: unknown rule {rule}")
        return Condition("rule", why, sources, rule=rule)
    if "platform" in raw:
        platforms = raw["platform"] if isinstance(raw["platform"], list) else [raw["platform"]]
        platforms = tuple(str(p).strip().lower() for p in platforms)
        unknown = [p for p in platforms if p not in PLATFORMS]
        if unknown or not platforms:
            raise ConditionError(f"{story}: unknown platform(s) {unknown} (use {PLATFORMS})")
        return Condition("platform", why, sources, platforms=platforms)
    component = str(raw.get("component") or "").strip()
    if component not in COMPONENTS:
        raise ConditionError(f"{story}: unknown component {component!r} (use {COMPONENTS})")
    if "env" in raw:
        env = raw["env"]
        if not isinstance(env, dict) or not env.get("name") or "not" not in env:
            raise ConditionError(f"{story}: env needs `name` and `not`")
        return Condition(
            "env", why, sources, component=component,
            env_name=str(env["name"]), env_not=str(env["not"]),
        )  # fmt: skip
    try:
        affected = parse_range(str(raw.get("affected") or ""))
    except ValueError as exc:
        raise ConditionError(f"{story}: {exc}") from None
    fixed_in = []
    for text in raw.get("fixed_in") or []:
        version = parse_version(str(text))
        if version is None:
            raise ConditionError(f"{story}: fixed_in {text!r} is not a version")
        fixed_in.append(version)
    return Condition(
        "component",
        why,
        sources,
        component=component,
        affected=affected,
        fixed_in=tuple(fixed_in),
        contains=str(raw.get("contains") or ""),
        absent=bool(raw.get("absent")),
    )


def parse_exposures(
    data: Any, *, known_rules: set[str] | None = None, known_stories: set[str] | None = None
) -> dict[str, StoryExposure]:
    if not isinstance(data, dict) or not isinstance(data.get("stories"), dict):
        raise ConditionError("the exposure file needs a `stories:` mapping")
    exposures = {}
    for slug, entry in data["stories"].items():
        if known_stories is not None and slug not in known_stories:
            raise ConditionError(f"{slug}: no such story")
        if not isinstance(entry, dict) or not isinstance(entry.get("conditions"), list):
            raise ConditionError(f"{slug}: needs a list of `conditions`")
        match = str(entry.get("match") or "all")
        if match not in {"all", "any"}:
            raise ConditionError(f"{slug}: match must be all or any")
        conditions = tuple(_condition(slug, c, known_rules) for c in entry["conditions"])
        if not conditions:
            raise ConditionError(f"{slug}: at least one condition")
        exposures[slug] = StoryExposure(slug, match, str(entry.get("summary") or ""), conditions)
    return exposures


_CACHE: dict[str, dict[str, StoryExposure]] = {}


def load_exposures(path: Path = DATA_FILE) -> dict[str, StoryExposure]:
    """The curated conditions, read once per process."""
    key = str(path)
    if key not in _CACHE:
        from incidents.rules.registry import REGISTRY

        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        known = {r.id for r in REGISTRY.manifest_rules()}
        _CACHE[key] = parse_exposures(data, known_rules=known)
    return _CACHE[key]
