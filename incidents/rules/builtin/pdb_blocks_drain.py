"""KB029: a PodDisruptionBudget that never allows an eviction."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_str
from incidents.rules.scheduling import scaled


def check(obj, ctx):
    spec = obj.spec
    max_unavailable = spec.get("maxUnavailable")
    min_available = spec.get("minAvailable")
    if max_unavailable is not None and as_str(max_unavailable).strip() in ("0", "0%"):
        yield Hit("spec.maxUnavailable", "maxUnavailable: 0 blocks every voluntary eviction")
        return
    if min_available is None:
        return
    if as_str(min_available).strip() == "100%":
        yield Hit("spec.minAvailable", "minAvailable: 100% blocks every voluntary eviction")
        return
    covered = ctx.pods_selected_by(spec.get("selector"), obj.namespace)
    counts = [ctx.replicas(w) for w in covered]
    if not counts or any(c is None for c in counts):
        return
    total = sum(counts)
    wanted = scaled(min_available, total, round_up=True)  # the disruption controller rounds up
    if wanted is None or total == 0 or wanted < total:
        return
    text = as_str(min_available).strip()
    rounded = f" (rounded up to {wanted})" if text.endswith("%") else ""
    yield Hit(
        "spec.minAvailable",
        f"minAvailable {text}{rounded} with {total} replica(s): no pod may ever be evicted, "
        "so node drains and upgrades hang or get forced",
    )


RULE = Rule(
    id="KB029",
    slug="pdb-blocks-drain",
    title="PodDisruptionBudget that blocks every eviction",
    severity=Severity.WARNING,
    kinds=("PodDisruptionBudget",),
    checks="PodDisruptionBudgets with `maxUnavailable: 0` (or `0%`), `minAvailable: 100%`, or a "
    "`minAvailable` at or above the replicas of the workloads they select in the input, "
    "percentages included: the budget rounds them up, so `minAvailable: 50%` of one replica, "
    "or `90%` of three, is all of them.",
    why="A budget that allows no disruption makes `kubectl drain` and managed node upgrades "
    "wait forever or give up and delete pods anyway. Pods it protects stay on the old nodes "
    "while everything else moves, which is how an ingress controller ends up stranded on "
    "nodes the load balancer has already removed.",
    fix="Allow at least one disruption (`maxUnavailable: 1`) and run enough replicas to "
    "tolerate it.",
    fix_example="""apiVersion: policy/v1
kind: PodDisruptionBudget
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ingress-nginx
""",
    references=(
        "https://kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions",
        "https://kubernetes.io/docs/tasks/administer-cluster/safely-drain-node/",
    ),
    check=check,
)
