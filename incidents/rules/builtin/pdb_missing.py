"""KB010: several replicas and no PodDisruptionBudget."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import SERVING_KINDS


def check(obj, ctx):
    count = ctx.replicas(obj)
    if count is None or count < 2 or ctx.pdbs_covering(obj):
        return
    yield Hit(
        "spec.replicas" if "replicas" in obj.spec else "spec",
        f"{count} replicas and no PodDisruptionBudget in the input covers them: a node "
        "drain or upgrade may evict them all at once",
    )


RULE = Rule(
    id="KB010",
    slug="pdb-missing",
    title="Replicated workload without a PodDisruptionBudget",
    severity=Severity.WARNING,
    kinds=SERVING_KINDS,
    checks="Deployments, StatefulSets and ReplicaSets with 2 or more replicas (ingress "
    "controllers included) that no PodDisruptionBudget of the same input selects.",
    why="Node upgrades, autoscaler scale-downs and `kubectl drain` evict pods through the "
    "eviction API, which only holds back when a PodDisruptionBudget says so. Without one, "
    "draining several nodes (a node-pool upgrade) can take every replica of a service, or of "
    "the ingress controller, down at the same moment.",
    fix="Add a PodDisruptionBudget selecting the pods with `maxUnavailable: 1` (or a "
    "percentage). Do not set it so strict that drains can never proceed (see KB029).",
    fix_example="""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: web
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/pods/disruptions/",
        "https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
    ),
    check=check,
)
