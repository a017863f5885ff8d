"""`kbcheck --export vap`: rules as ValidatingAdmissionPolicy + binding objects (CEL, in the
API server).

For clusters that would rather not run a webhook: Kubernetes 1.30+ evaluates these policies in
the API server itself. Only rules whose whole logic is a CEL expression over the one object under
review are exported (`CEL` below, each translated by hand from its Python check and tested
against it on the rule fixtures: tests/rules/test_vap_export.py). The others are listed in the
output's header with the reason, and stay with kbcheck, CI or the webhook.

Each policy:
- matches CREATE and UPDATE of the kinds the rule checks; `failurePolicy: Ignore`;
- leaves out objects a controller made (their owner was checked) and objects whose
  `kb.k8s.af/ignore` annotation names the rule, as kbcheck does;
- has one validation whose message names the rule and links its first story.
Each binding applies its policy everywhere but kube-system, with `validationActions: [Warn]`:
change it to `[Deny]` (or `[Warn, Audit]`) per rule once the warnings are understood.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from incidents.rules.base import Rule
from incidents.rules.engine import IGNORE_ANNOTATION
from incidents.rules.objects import POD_SPEC_PATHS

API_VERSION = "admissionregistration.k8s.io/v1"
PREFIX = "kb-k8s-af"

# kind -> (API group, resource)
RESOURCES: dict[str, tuple[str, str]] = {
    "Pod": ("", "pods"),
    "ReplicationController": ("", "replicationcontrollers"),
    "Deployment": ("apps", "deployments"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "ReplicaSet": ("apps", "replicasets"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "clusterrolebindings"),
    "RoleBinding": ("rbac.authorization.k8s.io", "rolebindings"),
}

# Named values the expressions use (`variables.podSpec`...), in the order they are defined.
VARIABLES: dict[str, str] = {
    "podSpec": "object.kind == 'Pod' ? object.spec : "
    "object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : "
    "object.spec.template.spec",
    "containers": "has(variables.podSpec.containers) ? variables.podSpec.containers : []",
    "allContainers": "variables.containers + (has(variables.podSpec.initContainers) ? "
    "variables.podSpec.initContainers : [])",
    "jobSpec": "object.kind == 'CronJob' ? object.spec.jobTemplate.spec : object.spec",
}

# An image reference whose tag is empty or `latest` and that has no digest (objects.image_parts).
_FLOATING = (
    "!{c}.image.contains('@') && (!{c}.image.matches(':[^/:]+$') || {c}.image.matches(':latest$'))"
)
# An image a script fills in before applying (objects.is_placeholder_image).
_PLACEHOLDER = "'[{}$<>]'"
_SENSITIVE = (
    "^((/etc|/root|/proc|/var/lib/kubelet|/var/run/docker\\\\.sock|/run/containerd/"
    "containerd\\\\.sock|/var/run/crio/crio\\\\.sock)/*|/+)$"
)


@dataclass(frozen=True)
class Translation:
    """A rule in CEL: `expression` is true when the object passes (no finding)."""

    expression: str
    variables: tuple[str, ...] = ()


CEL: dict[str, Translation] = {
    "KB002": Translation(
        "variables.allContainers.all(c, has(c.resources) && has(c.resources.limits) && "
        "'memory' in c.resources.limits)",
        ("podSpec", "containers", "allContainers"),
    ),
    "KB014": Translation("has(variables.jobSpec.activeDeadlineSeconds)", ("jobSpec",)),
    "KB015": Translation(
        "size(variables.jobSpec) == 0 || (has(variables.jobSpec.backoffLimit) && "
        "variables.jobSpec.backoffLimit <= 6)",
        ("jobSpec",),
    ),
    "KB016": Translation(
        "has(object.spec.concurrencyPolicy) && object.spec.concurrencyPolicy != 'Allow'"
    ),
    "KB017": Translation("has(object.spec.startingDeadlineSeconds)"),
    "KB018": Translation(
        "(has(object.spec.successfulJobsHistoryLimit) ? "
        "object.spec.successfulJobsHistoryLimit <= 10 : object.apiVersion != 'batch/v2alpha1') "
        "&& (has(object.spec.failedJobsHistoryLimit) ? "
        "object.spec.failedJobsHistoryLimit <= 10 : object.apiVersion != 'batch/v2alpha1')"
    ),
    "KB019": Translation(
        "variables.allContainers.all(c, !has(c.image) || c.image == '' || "
        "c.image.matches(" + _PLACEHOLDER + ") || !(" + _FLOATING.format(c="c") + "))",
        ("podSpec", "containers", "allContainers"),
    ),
    "KB020": Translation(
        "variables.allContainers.all(c, has(c.imagePullPolicy) ? c.imagePullPolicy != 'Always' "
        ": !has(c.image) || c.image.matches("
        + _PLACEHOLDER
        + ") || !("
        + _FLOATING.format(c="c")
        + "))",
        ("podSpec", "containers", "allContainers"),
    ),
    "KB021": Translation(
        "variables.allContainers.all(c, !(has(c.securityContext) && "
        "has(c.securityContext.privileged) && c.securityContext.privileged == true))",
        ("podSpec", "containers", "allContainers"),
    ),
    "KB022": Translation(
        "!(has(variables.podSpec.hostPID) && variables.podSpec.hostPID == true) && "
        "!(has(variables.podSpec.hostNetwork) && variables.podSpec.hostNetwork == true) && "
        "!(has(variables.podSpec.hostIPC) && variables.podSpec.hostIPC == true)",
        ("podSpec",),
    ),
    "KB023": Translation(
        "!has(variables.podSpec.volumes) || variables.podSpec.volumes.all(v, "
        f"!has(v.hostPath) || !v.hostPath.path.matches('{_SENSITIVE}'))",
        ("podSpec",),
    ),
    "KB025": Translation(
        "!has(object.roleRef) || object.roleRef.kind != 'ClusterRole' || "
        "object.roleRef.name != 'cluster-admin' || !has(object.subjects) || "
        "object.subjects.all(s, !(s.kind == 'ServiceAccount' || (has(s.name) && "
        "s.name == 'system:anonymous') || (s.kind == 'Group' && has(s.name) && ("
        "s.name.startsWith('system:serviceaccounts') || "
        "s.name.startsWith('system:authenticated') || "
        "s.name.startsWith('system:unauthenticated')))))"
    ),
    "KB032": Translation(
        "variables.containers.all(c, has(c.resources) && ("
        "(has(c.resources.requests) && 'cpu' in c.resources.requests) || "
        "(has(c.resources.limits) && 'cpu' in c.resources.limits)))",
        ("podSpec", "containers"),
    ),
}

NOT_CONTROLLER_MADE = (
    "!has(object.metadata.ownerReferences) || "
    "!object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller)"
)


def not_ignored(rule: Rule) -> str:
    """CEL: the object's ignore annotation does not name the rule (before any `: reason`)."""
    names = f"{rule.id}|{rule.slug}"
    pattern = f"^([^:]*[,;])?\\\\s*(?i:{names})\\\\s*([,;:][\\\\s\\\\S]*)?$"
    annotation = f"object.metadata.annotations['{IGNORE_ANNOTATION}']"
    return (
        f"!has(object.metadata.annotations) || !('{IGNORE_ANNOTATION}' in "
        f"object.metadata.annotations) || !{annotation}.matches('{pattern}')"
    )


# Why a rule is not exported, for the rules whose reason is not their shape (see the function).
REASONS = {
    "KB001": "its exception for whole-CPU Guaranteed containers compares quantities (2 = 2000m)",
    "KB003": "asks which Services send traffic to the workload",
    "KB007": "asks which Services send traffic to the workload",
    "KB008": "asks which Services send traffic to the workload",
    "KB009": "reads the replicas a HorizontalPodAutoscaler sets",
    "KB010": "asks for the PodDisruptionBudgets that cover the workload",
    "KB011": "counts the replicas of the workloads the Service selects",
    "KB029": "counts the replicas of the workloads the budget selects",
    "KB030": "asks for the workloads the budget selects",
    "KB026": "its trigger is being revised (evidence of external lookups)",
    "KB037": "checks kubelet configuration files, which are not API objects",
}


def not_exportable_reason(rule: Rule) -> str:
    if rule.id in REASONS:
        return REASONS[rule.id]
    if rule.check_input is not None:
        return "looks across the objects of the input"
    if rule.params:
        return "depends on run parameters"
    return "not translated to CEL yet (kbcheck and the webhook check it)"


def _name(rule: Rule) -> str:
    return f"{PREFIX}-{rule.id.lower()}-{rule.slug}"


def policy(rule: Rule, translation: Translation, *, link: str) -> dict[str, Any]:
    kinds = [k for k in rule.kinds if k in RESOURCES]
    groups: dict[str, list[str]] = {}
    for kind in kinds:
        group, resource = RESOURCES[kind]
        groups.setdefault(group, []).append(resource)
    needs_pod_spec = "podSpec" in translation.variables
    if needs_pod_spec:
        assert all(k in POD_SPEC_PATHS for k in kinds), rule.id
    return {
        "apiVersion": API_VERSION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": _name(rule), "labels": {"kb.k8s.af/rule": rule.id}},
        "spec": {
            "failurePolicy": "Ignore",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [group],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": resources,
                    }
                    for group, resources in groups.items()
                ]
            },
            "matchConditions": [
                {"name": "not-made-by-a-controller", "expression": NOT_CONTROLLER_MADE},
                {"name": "not-ignored", "expression": not_ignored(rule)},
            ],
            "variables": [
                {"name": name, "expression": VARIABLES[name]} for name in translation.variables
            ],
            "validations": [
                {
                    "expression": translation.expression,
                    "message": f"{rule.id} {rule.slug}: {rule.title}"
                    + (f" ({link})" if link else ""),
                    "reason": "Invalid",
                }
            ],
        },
    }


def binding(rule: Rule) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": _name(rule), "labels": {"kb.k8s.af/rule": rule.id}},
        "spec": {
            "policyName": _name(rule),
            "validationActions": ["Warn"],
            "matchResources": {
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": ["kube-system"],
                        }
                    ]
                }
            },
        },
    }


def export_vap(
    rules: Iterable[Rule] | None = None,
    *,
    stories: Callable[[str], dict | None] | None = None,
    rule_url: Callable[[str], str] | None = None,
) -> str:
    """The policies and bindings as multi-document YAML, the rules left out in its header."""
    if rules is None:
        from incidents.rules.registry import REGISTRY

        rules = REGISTRY.manifest_rules()
    rules = list(rules)
    exported = [r for r in rules if r.id in CEL]
    header = [
        "# kbcheck --export vap: ValidatingAdmissionPolicy + binding per rule (Kubernetes 1.30+)",
        "# Bindings warn; set validationActions to [Deny] per rule to enforce it.",
        f"# Exported ({len(exported)}): {', '.join(r.id for r in exported)}",
        f"# Not exportable ({len(rules) - len(exported)}):",
    ]
    header += [f"#   {r.id} {r.slug}: {not_exportable_reason(r)}" for r in rules if r.id not in CEL]
    documents = []
    for rule in exported:
        link = ""
        for slug in rule.stories:
            story = stories(slug) if stories else None
            if story and story.get("url"):
                link = story["url"]
                break
        if not link and rule_url:
            link = rule_url(rule.id)
        documents += [policy(rule, CEL[rule.id], link=link), binding(rule)]
    body = yaml.safe_dump_all(documents, sort_keys=False, width=100, explicit_start=True)
    return "\n".join(header) + "\n" + body
