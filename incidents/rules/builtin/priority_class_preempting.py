"""KB013: a PriorityClass that is the global default or preempts other pods."""

from incidents.rules.base import Hit, Rule, Severity


def check(obj, ctx):
    data = obj.data
    if data.get("globalDefault") is True:
        yield Hit(
            "globalDefault",
            f"PriorityClass {obj.name} is the global default: every pod without a class gets "
            f"priority {data.get('value')} and can preempt pods of lower classes",
        )
    if data.get("preemptionPolicy", "PreemptLowerPriority") != "Never":
        yield Hit(
            "preemptionPolicy",
            f"PriorityClass {obj.name} preempts: a pending pod of this class evicts running "
            "lower-priority pods, which can cascade when those pods need to reschedule too",
        )


RULE = Rule(
    id="KB013",
    slug="priority-class-preempting",
    title="PriorityClass that is the global default or preempts",
    severity=Severity.WARNING,
    kinds=("PriorityClass",),
    checks="PriorityClasses with `globalDefault: true`, and those whose `preemptionPolicy` is "
    "not `Never` (the default is `PreemptLowerPriority`).",
    why="Preemption evicts running pods to make room for pending higher-priority ones, without "
    "regard for PodDisruptionBudgets beyond best effort. A rollout of large high-priority pods "
    "can evict a chain of others, each of which preempts again; a class marked global default "
    "silently applies to everything.",
    fix="Use preemption for a small number of truly critical pods; give other classes "
    "`preemptionPolicy: Never` (they still queue ahead of lower priorities). Do not make a "
    "high-value class the global default.",
    fix_example="""apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: important-batch
value: 100000
preemptionPolicy: Never
globalDefault: false
""",
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/",
    ),
    check=check,
)
