"""Admission review: the manifest rules on one object, as a validating webhook answers.

    response = review(admission_review, deny_at=Severity.ERROR, stories=StoryFiles(site_url))

Takes an `admission.k8s.io/v1` AdmissionReview (parsed JSON) and returns the AdmissionReview to
send back. Plain Python; the Django view (incidents/views/admission.py) adds the body-size and
time limits and fails open.

What is checked, and why:
- CREATE and UPDATE of any object with a kind the rules know; DELETE and CONNECT are allowed
  without a look (there is nothing to warn about).
- Only what one object shows. A webhook sees one object at a time, so a rule that needs other
  objects (is there a PodDisruptionBudget for this Deployment? does a Service select it?) would
  guess. The rules run with a context that refuses every question about other objects; a rule
  that asks is skipped for that object, so what is reported is exactly what kbcheck reports for
  that object whatever else the input holds.
- Objects a controller made (an `ownerReferences` entry with `controller: true`: the Pods of a
  ReplicaSet, the ReplicaSets of a Deployment) are allowed without a look: their owner was
  checked when it was applied, the warnings would reach the controller's log and nobody else,
  and denying them would stop a workload the cluster already accepted from scaling or healing.
- Every finding becomes a warning (`kubectl` prints them): rule ID and slug, message, and the
  first story's URL (else the rule's page). Kubernetes truncates a warning above 256 characters
  and drops them past 4,096 in all, so messages are shortened and the list capped.
- Deny only at or above `deny_at` (None: never). On UPDATE only findings the old object did
  not have can deny: an object that was already admitted can still be scaled or relabelled.
- `kb.k8s.af/ignore` annotations silence rules as in kbcheck.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from incidents.rules.base import Rule, Severity
from incidents.rules.engine import suppressed_rules
from incidents.rules.objects import K8sObject

API_VERSION = "admission.k8s.io/v1"
CHECKED_OPERATIONS = {"CREATE", "UPDATE"}
WARNING_MAX = 256  # characters: the API server may truncate longer warnings
WARNINGS_TOTAL_MAX = 3_500  # of the 4,096 the API server keeps from all webhooks together
DENY_MESSAGE_MAX = 1_000


class BadReview(ValueError):
    """The body is not an AdmissionReview this webhook can answer."""


class NeedsOtherObjects(Exception):
    """A rule asked about objects other than the one under review."""


class ObjectOnlyContext:
    """A rule context for one object: run parameters only; any other question raises."""

    def __init__(self, params: Mapping[str, str]):
        self.params = params

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def __getattr__(self, name: str) -> Any:
        raise NeedsOtherObjects(name)


@dataclass(frozen=True)
class ObjectFinding:
    rule: Rule
    path: str
    message: str


def parse_review(body: Any) -> dict[str, Any]:
    """The `request` of an AdmissionReview v1, or BadReview saying what is wrong."""
    if not isinstance(body, dict):
        raise BadReview("the body is not a JSON object")
    if body.get("apiVersion") != API_VERSION or body.get("kind") != "AdmissionReview":
        raise BadReview(f"expected apiVersion {API_VERSION}, kind AdmissionReview")
    request = body.get("request")
    if not isinstance(request, dict):
        raise BadReview("the AdmissionReview has no request")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise BadReview("the AdmissionReview request has no uid")
    return request


def response(uid: str, *, allowed: bool = True, warnings=(), message: str = "") -> dict:
    answer: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if warnings:
        answer["warnings"] = list(warnings)
    if not allowed:
        answer["status"] = {"code": 403, "reason": "Forbidden", "message": message}
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": answer}


def controller_owned(obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    return isinstance(owners, list) and any(
        isinstance(o, dict) and o.get("controller") is True for o in owners
    )


def check_object(
    data: Any, rules: Sequence[Rule], params: Mapping[str, str] | None = None
) -> list[ObjectFinding]:
    """Findings of the single-object rules on one object, suppression annotations applied."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return []
    obj = K8sObject(data, 0)
    defaults = {p.name: p.default for r in rules for p in r.params if p.default is not None}
    context = ObjectOnlyContext({**defaults, **(params or {})})
    ignored = None
    findings = []
    for rule in rules:
        if rule.check is None or obj.kind not in rule.kinds:
            continue
        try:
            hits = list(rule.check(obj, context) or ())
        except NeedsOtherObjects:
            continue
        if hits and ignored is None:
            ignored = suppressed_rules(obj)[0]
        if ignored and (rule.id in ignored or rule.slug in ignored):
            continue
        findings.extend(ObjectFinding(rule, hit.path, hit.message) for hit in hits)
    return sorted(findings, key=lambda f: (f.rule.id, f.path))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def warning_text(finding: ObjectFinding, link: str) -> str:
    head = f"{finding.rule.id} {finding.rule.slug}: "
    tail = f" ({link})" if link else ""
    return head + _shorten(finding.message, WARNING_MAX - len(head) - len(tail)) + tail


def review(
    body: Any,
    *,
    deny_at: Severity | None = None,
    stories: Callable[[str], dict | None] | None = None,
    rule_url: Callable[[str], str] = lambda rule_id: "",
    rules: Sequence[Rule] | None = None,
    params: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(AdmissionReview response, facts for the log line). Raises BadReview."""
    request = parse_review(body)
    uid = request["uid"]
    kind = request.get("kind") if isinstance(request.get("kind"), dict) else {}
    facts: dict[str, Any] = {
        "uid": uid,
        "operation": request.get("operation"),
        "kind": kind.get("kind"),
        "namespace": request.get("namespace") or "",
        "name": request.get("name") or "",
        "findings": 0,
        "allowed": True,
    }
    obj = request.get("object")
    if request.get("operation") not in CHECKED_OPERATIONS or not isinstance(obj, dict):
        facts["skipped"] = "operation"
        return response(uid), facts
    if controller_owned(obj):
        facts["skipped"] = "controller-owned"
        return response(uid), facts
    if rules is None:
        from incidents.rules.registry import REGISTRY

        rules = REGISTRY.manifest_rules()
    findings = check_object(obj, rules, params)
    facts["findings"] = len(findings)
    warnings = _warnings(findings, stories=stories, rule_url=rule_url)
    denying = []
    if deny_at is not None:
        denying = [f for f in findings if f.rule.severity >= deny_at]
        if denying and request.get("operation") == "UPDATE":
            before = {(f.rule.id, f.path) for f in check_object(request.get("oldObject"), rules)}
            denying = [f for f in denying if (f.rule.id, f.path) not in before]
    if denying:
        facts["allowed"] = False
        facts["denied_by"] = sorted({f.rule.id for f in denying})
        message = "kbcheck: " + "; ".join(
            f"{f.rule.id} {f.rule.slug}: {f.message}" for f in denying
        )
        return response(
            uid, allowed=False, warnings=warnings, message=_shorten(message, DENY_MESSAGE_MAX)
        ), facts
    return response(uid, warnings=warnings), facts


def _warnings(findings: list[ObjectFinding], *, stories, rule_url) -> list[str]:
    warnings: list[str] = []
    used = 0
    for index, finding in enumerate(findings):
        linked = None
        for slug in finding.rule.stories:
            linked = stories(slug) if stories else None
            if linked:
                break
        link = (linked or {}).get("url") or rule_url(finding.rule.id)
        text = warning_text(finding, link)
        if used + len(text) > WARNINGS_TOTAL_MAX - 80:
            warnings.append(f"kbcheck: {len(findings) - index} more finding(s) not shown")
            break
        warnings.append(text)
        used += len(text)
    return warnings
