"""KB030: a PodDisruptionBudget whose selector matches no workload of the input."""

from incidents.rules.base import Hit, Rule, Severity


def check(obj, ctx):
    if not ctx.has_workloads_in(obj.namespace):
        return  # its workloads are defined elsewhere
    if ctx.operator_made(obj.spec.get("selector"), obj.namespace):
        return  # it covers pods an operator makes from a custom resource
    if not ctx.pods_selected_by(obj.spec.get("selector"), obj.namespace):
        yield Hit(
            "spec.selector",
            "selector matches no workload in this input: the budget protects nothing",
        )


RULE = Rule(
    id="KB030",
    slug="pdb-selects-nothing",
    title="PodDisruptionBudget covering no workload",
    severity=Severity.WARNING,
    kinds=("PodDisruptionBudget",),
    checks="PodDisruptionBudgets whose selector matches the pods of no workload in the same "
    "application and namespace (checked only when it has workloads there; pods an operator "
    "makes from a custom resource are left alone, as for KB027).",
    why="A PDB with a wrong or stale selector looks like protection in review but covers no "
    "pod, so a node-pool upgrade or drain evicts all replicas at once.",
    fix="Use the pod template labels of the workload in `spec.selector.matchLabels`, and check "
    "`kubectl get pdb` shows the expected number of pods (`ALLOWED DISRUPTIONS` above 0).",
    fix_example="""apiVersion: policy/v1
kind: PodDisruptionBudget
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: web   # = spec.template.metadata.labels.app of the Deployment
""",
    references=("https://kubernetes.io/docs/tasks/run-application/configure-pdb/",),
    check=check,
)
