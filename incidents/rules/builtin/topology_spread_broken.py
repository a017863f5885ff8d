"""KB040: topology spread constraints that spread nothing or can never be met."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import (
    WORKLOAD_KINDS,
    as_dict,
    as_int,
    as_list,
    as_str,
    pod_spec,
    pod_template_labels,
)
from incidents.rules.relations import workload_selected
from incidents.rules.scheduling import pinned_values, unknown_reserved_label

OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


def judgeable(selector: dict) -> bool:
    """Only selectors this library evaluates exactly (no unknown operators)."""
    expressions = [as_dict(e) for e in as_list(selector.get("matchExpressions"))]
    return all(e.get("operator") in OPERATORS for e in expressions)


def problem(obj, spec: dict, constraint: dict) -> str | None:
    key = as_str(constraint.get("topologyKey"))
    hard = constraint.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule"
    selector = as_dict(constraint.get("labelSelector"))
    if not (as_dict(selector.get("matchLabels")) or as_list(selector.get("matchExpressions"))):
        return "has no labelSelector, so it counts no pods and spreads nothing"
    if judgeable(selector) and not workload_selected(selector, obj, pod_template_labels(obj)):
        return (
            "has a labelSelector that does not match the pods' own labels: it counts other "
            "pods, so these replicas are not spread from each other"
        )
    if unknown_reserved_label(key):
        if hard:
            return (
                "names a key that is not a label Kubernetes sets on nodes (a typo?): with "
                "DoNotSchedule no node qualifies and every pod stays Pending"
            )
        return "names a key that is not a label Kubernetes sets on nodes: it spreads nothing"
    values = pinned_values(spec, key)
    if not values or len(values) > 1:
        return None
    value = next(iter(values))
    ignores = constraint.get("nodeAffinityPolicy") == "Ignore"
    if hard and ((as_int(constraint.get("minDomains")) or 1) > 1 or ignores):
        skew = as_int(constraint.get("maxSkew")) or 1
        return (
            f"needs several values of the key, but the pod is pinned to {value}: only "
            f"{skew} pod(s) can be placed, the others stay Pending"
        )
    return f"spreads nothing: the pod is pinned to {value}, the key's only value it may use"


def check(obj, ctx):
    spec, prefix = pod_spec(obj)
    for i, constraint in enumerate(as_list(spec.get("topologySpreadConstraints"))):
        found = problem(obj, spec, as_dict(constraint))
        if found:
            key = as_str(as_dict(constraint).get("topologyKey")) or "?"
            yield Hit(
                f"{prefix}.topologySpreadConstraints[{i}]",
                f"the topology spread constraint on {key} {found}",
            )


RULE = Rule(
    id="KB040",
    slug="topology-spread-broken",
    title="Topology spread constraint that spreads nothing or cannot be met",
    severity=Severity.WARNING,
    kinds=WORKLOAD_KINDS,
    checks="`topologySpreadConstraints` that the manifest alone shows to be broken: no "
    "`labelSelector`, or one that does not match the pod template's own labels (labels the "
    "controller adds count); a `topologyKey` in the reserved `kubernetes.io`/`k8s.io` "
    "namespaces that is not a label Kubernetes sets on nodes; a key the pod's `nodeSelector`, "
    "`nodeName` or required node affinity pins to one value, which spreads nothing, or leaves "
    "pods Pending with `DoNotSchedule` and `minDomains` above 1 or `nodeAffinityPolicy: "
    "Ignore`. Whether nodes carry a custom key, and how many zones or nodes there are, is not "
    "in the manifest and is not judged.",
    why="A spread constraint is how replicas stay on different nodes or zones, so one node's "
    "or zone's loss does not take them all. A constraint that counts the wrong pods, or a key "
    "with only one value, lets the scheduler pack the replicas together while the manifest "
    "looks spread; one whose key no node has, or whose domains cannot exist, leaves every new "
    "pod Pending on the next rollout or scale-up.",
    fix="Select the workload's own pod labels in `labelSelector` (add `matchLabelKeys: "
    "[pod-template-hash]` to count only the current revision), use a well-known key "
    "(`kubernetes.io/hostname`, `topology.kubernetes.io/zone`) that nodes carry, and do not "
    "pin the pods to a single value of the key you spread over.",
    fix_example="""topologySpreadConstraints:
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: DoNotSchedule
  labelSelector:
    matchLabels:
      app: web          # the pod template's own label
  matchLabelKeys:
  - pod-template-hash
""",
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/",
        "https://kubernetes.io/docs/reference/labels-annotations-taints/",
    ),
    check=check,
)
