"""Match a cluster snapshot against the stories' exposure conditions.

Each condition comes out as `match` (with the evidence: which node runs which kernel, which
object the rule flagged), `no_match` (with the reason) or `unknown` (the snapshot cannot tell:
a distribution kernel whose backports are invisible in its version, a kind of object the
snapshot does not hold). A story is `exposed` when its conditions hold, `not_applicable` when
one that must hold does not, and `unknown` otherwise. We never round `unknown` up or down: an
engineer deciding whether to act needs to know which answers are guesses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from incidents.exposure.conditions import Condition, StoryExposure, load_exposures
from incidents.exposure.snapshot import Sighting, Snapshot
from incidents.exposure.versions import fixed_by
from incidents.rules.engine import check_inputs
from incidents.rules.findings import Report
from incidents.rules.objects import K8sObject, as_dict, as_list, as_str, containers
from incidents.rules.parsing import Limits

MATCH, NO_MATCH, UNKNOWN = "match", "no_match", "unknown"
EXPOSED, NOT_APPLICABLE = "exposed", "not_applicable"
MAX_EVIDENCE = 5


@dataclass(slots=True)
class Outcome:
    condition: Condition
    status: str
    evidence: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass(slots=True)
class StoryVerdict:
    exposure: StoryExposure
    status: str
    outcomes: list[Outcome]


@dataclass(slots=True)
class ExposureReport:
    snapshot: Snapshot
    verdicts: list[StoryVerdict]
    without_conditions: list[str]
    findings: Report

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {
            EXPOSED: self.count(EXPOSED),
            UNKNOWN: self.count(UNKNOWN),
            NOT_APPLICABLE: self.count(NOT_APPLICABLE),
            "no_known_conditions": len(self.without_conditions),
        }


def _component(condition: Condition, snapshot: Snapshot) -> Outcome:
    sightings = snapshot.sightings(condition.component)
    if condition.absent:
        if sightings:
            return Outcome(
                condition, NO_MATCH, reason=f"{condition.component} found: {sightings[0].where}"
            )
        if not snapshot.objects:
            return Outcome(condition, UNKNOWN, reason="the snapshot holds no objects")
        return Outcome(
            condition, MATCH, [f"no {condition.component} container image in the snapshot"]
        )
    if not sightings:
        return Outcome(condition, *_missing(condition.component, snapshot))
    matched, unknown, cleared = [], [], []
    for sighting in sightings:
        verdict, note = _sighting(condition, sighting)
        line = f"{sighting.where}: {sighting.version_text}" + (f" ({note})" if note else "")
        {MATCH: matched, UNKNOWN: unknown, NO_MATCH: cleared}[verdict].append(line)
    if matched:
        extra = len(matched) - MAX_EVIDENCE
        evidence = matched[:MAX_EVIDENCE] + ([f"and {extra} more"] if extra > 0 else [])
        return Outcome(condition, MATCH, evidence)
    if unknown:
        return Outcome(condition, UNKNOWN, unknown[:MAX_EVIDENCE])
    return Outcome(condition, NO_MATCH, reason="; ".join(cleared[:MAX_EVIDENCE]))


def _missing(component: str, snapshot: Snapshot) -> tuple[str, list[str], str]:
    if component == "kubernetes":
        return UNKNOWN, [], "no server version in the snapshot (kubectl version -o json)"
    if component in {"kubelet", "kernel", "container-runtime", "node-os"}:
        if not snapshot.nodes:
            return UNKNOWN, [], "no nodes in the snapshot (kubectl get nodes -o json)"
        return UNKNOWN, [], f"the nodes do not report their {component}"
    if not any(as_dict(o.get("spec")) for o in snapshot.objects if o.get("kind") != "Node"):
        return UNKNOWN, [], "no workloads in the snapshot"
    return NO_MATCH, [], f"no {component} container image in the snapshot"


def _sighting(condition: Condition, sighting: Sighting) -> tuple[str, str]:
    if condition.contains:
        if condition.contains.lower() not in sighting.version_text.lower():
            return NO_MATCH, ""
        if not condition.affected.bounds and not condition.fixed_in:
            return MATCH, ""
    version = sighting.version
    if version is None:
        if condition.affected.bounds or condition.fixed_in:
            return UNKNOWN, "no version number in it"
        return MATCH, ""
    if condition.affected.bounds and version not in condition.affected:
        return NO_MATCH, f"outside {condition.affected.text}"
    if condition.fixed_in:
        fixed = fixed_by(version, condition.fixed_in)
        if fixed is True:
            return NO_MATCH, "carries the fix"
        if fixed is None:
            return UNKNOWN, (
                "a distribution build: check its changelog for the fix"
                if version.distribution
                else "no fix recorded for this branch"
            )
    return MATCH, ""


def _platform(condition: Condition, snapshot: Snapshot) -> Outcome:
    found = snapshot.platforms()
    if not found:
        return Outcome(condition, UNKNOWN, reason="no nodes in the snapshot")
    hits = [p for p in condition.platforms if p in found]
    if hits:
        nodes = found[hits[0]]
        more = f" and {len(nodes) - 1} more" if len(nodes) > 1 else ""
        return Outcome(condition, MATCH, [f"{hits[0]}: node {nodes[0]}{more}"])
    return Outcome(condition, NO_MATCH, reason="nodes run on " + ", ".join(sorted(found)))


def _env(condition: Condition, snapshot: Snapshot) -> Outcome:
    sightings = [s for s in snapshot.sightings(condition.component) if s.obj is not None]
    if not sightings:
        return Outcome(condition, *_missing(condition.component, snapshot))
    evidence = []
    for sighting in sightings:
        value = _env_value(sighting.obj, condition.env_name)
        if (value or "").strip().lower() != condition.env_not.lower():
            shown = "not set" if value is None else f"{value!r}"
            evidence.append(f"{sighting.where}: {condition.env_name} {shown}")
    if evidence:
        return Outcome(condition, MATCH, evidence[:MAX_EVIDENCE])
    return Outcome(
        condition, NO_MATCH, reason=f"{condition.env_name} is {condition.env_not!r} everywhere"
    )


def _env_value(obj: dict, name: str) -> str | None:
    for container, _ in containers(K8sObject(obj, 0)):
        for item in as_list(container.get("env")):
            item = as_dict(item)
            if as_str(item.get("name")) == name:
                return as_str(item.get("value"))
    return None


def _rule(condition: Condition, snapshot: Snapshot, findings: Report, params) -> Outcome:
    from incidents.rules.registry import REGISTRY

    rule = REGISTRY.get(condition.rule)
    hits = [f for f in findings.findings if f.rule.id == rule.id]
    if hits:
        evidence = [
            f"{h.object.get('kind')} {_ref(h.object)}: {h.message}" for h in hits[:MAX_EVIDENCE]
        ]
        if len(hits) > MAX_EVIDENCE:
            evidence.append(f"and {len(hits) - MAX_EVIDENCE} more")
        return Outcome(condition, MATCH, evidence)
    missing = [p.name for p in rule.params if p.default is None and p.name not in params]
    if missing and rule.check_input is not None:
        return Outcome(condition, UNKNOWN, reason=f"needs --param {missing[0]}=...")
    kinds = snapshot.kinds()
    if not any(kind in kinds for kind in rule.kinds):
        return Outcome(
            condition, UNKNOWN, reason=f"the snapshot holds no {' / '.join(rule.kinds)} objects"
        )
    return Outcome(condition, NO_MATCH, reason=f"{rule.id} finds nothing in the snapshot")


def _ref(obj: Mapping[str, str]) -> str:
    namespace = obj.get("namespace") or ""
    return f"{namespace}/{obj.get('name')}" if namespace else str(obj.get("name"))


def evaluate(condition: Condition, snapshot: Snapshot, findings: Report, params) -> Outcome:
    if condition.kind == "rule":
        return _rule(condition, snapshot, findings, params)
    if condition.kind == "platform":
        return _platform(condition, snapshot)
    if condition.kind == "env":
        return _env(condition, snapshot)
    return _component(condition, snapshot)


def verdict(exposure: StoryExposure, outcomes: list[Outcome]) -> str:
    statuses = [o.status for o in outcomes]
    if exposure.match == "any":
        if MATCH in statuses:
            return EXPOSED
        return UNKNOWN if UNKNOWN in statuses else NOT_APPLICABLE
    if NO_MATCH in statuses:
        return NOT_APPLICABLE
    return UNKNOWN if UNKNOWN in statuses else EXPOSED


ORDER = {EXPOSED: 0, UNKNOWN: 1, NOT_APPLICABLE: 2}


def assess(
    snapshot: Snapshot,
    *,
    story_slugs: list[str] | None = None,
    exposures: Mapping[str, StoryExposure] | None = None,
    params: Mapping[str, str] | None = None,
    skip: tuple[str, ...] = (),
) -> ExposureReport:
    """Run the manifest rules over the snapshot's objects and evaluate every story's conditions.

    `story_slugs` is the set of published stories (to list those without known conditions);
    None lists only the stories that have conditions.
    """
    exposures = exposures if exposures is not None else load_exposures()
    params = dict(params or {})
    text = snapshot.as_list_document()
    limits = Limits(max_bytes=len(text) + 1024, max_documents=10, max_nodes=50_000_000)
    findings = check_inputs([("cluster-snapshot", text)], params=params, skip=skip, limits=limits)
    verdicts = []
    for slug, exposure in exposures.items():
        if story_slugs is not None and slug not in story_slugs:
            continue
        outcomes = [evaluate(c, snapshot, findings, params) for c in exposure.conditions]
        verdicts.append(StoryVerdict(exposure, verdict(exposure, outcomes), outcomes))
    verdicts.sort(key=lambda v: (ORDER[v.status], v.exposure.slug))
    without = sorted(set(story_slugs or ()) - set(exposures))
    return ExposureReport(snapshot, verdicts, without, findings)
