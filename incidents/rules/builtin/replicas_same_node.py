"""KB009: replicas that can all land on one node."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import SERVING_KINDS, as_dict, as_list, dig, pod_spec

SPREAD_KEYS = (
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
)


def spreads(spec: dict) -> bool:
    anti = as_dict(dig(spec, "affinity", "podAntiAffinity"))
    if anti.get("requiredDuringSchedulingIgnoredDuringExecution") or anti.get(
        "preferredDuringSchedulingIgnoredDuringExecution"
    ):
        return True
    return any(
        as_dict(c).get("topologyKey") in SPREAD_KEYS
        for c in as_list(spec.get("topologySpreadConstraints"))
    )


def check(obj, ctx):
    count = ctx.replicas(obj)
    if count is None or count < 2:
        return
    spec, prefix = pod_spec(obj)
    if not spec or spreads(spec):
        return
    yield Hit(
        f"{prefix}.affinity",
        f"{count} replicas and no pod anti-affinity or topology spread constraint: the "
        "scheduler may put them all on one node, and that node's failure takes them all",
    )


RULE = Rule(
    id="KB009",
    slug="replicas-same-node",
    title="Replicas that can all land on one node",
    severity=Severity.WARNING,
    kinds=SERVING_KINDS,
    checks="Deployments, StatefulSets and ReplicaSets with 2 or more replicas (or an HPA "
    "`minReplicas` of 2 or more) and neither `podAntiAffinity` nor a "
    "`topologySpreadConstraints` entry on hostname or zone.",
    why="Replicas exist to survive the loss of a node. The default scheduler spreading is only "
    "a preference among other scores; under pressure it co-locates replicas, and CPU-heavy pods "
    "packed together can also be what crashes the node.",
    fix="Add a topology spread constraint on `kubernetes.io/hostname` (and zone), or a "
    "preferred pod anti-affinity on the app label.",
    fix_example="""topologySpreadConstraints:
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      app: web
""",
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/",
        "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity",
    ),
    check=check,
)
