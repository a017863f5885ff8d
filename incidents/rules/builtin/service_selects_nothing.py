"""KB027: a Service whose selector matches no workload of the input."""

from incidents.rules.base import ObjectHit, Rule, Severity
from incidents.rules.objects import as_dict


def check_input(ctx):
    for service in ctx.of_kind("Service"):
        selector = as_dict(service.spec.get("selector"))
        if not selector or service.spec.get("type") == "ExternalName":
            continue
        if not ctx.has_workloads_in(service.namespace):
            continue  # a lone Service: its pods are defined elsewhere
        if ctx.operator_made(selector, service.namespace):
            continue  # its pods come from an operator's custom resource
        if not ctx.pods_selected_by(selector, service.namespace):
            labels = ", ".join(f"{k}={v}" for k, v in selector.items())
            yield ObjectHit(
                service,
                "spec.selector",
                f"selector {labels} matches no workload in this input: the Service will have "
                "no endpoints",
            )


RULE = Rule(
    id="KB027",
    slug="service-selects-nothing",
    title="Service selecting no workload",
    severity=Severity.WARNING,
    kinds=("Service",),
    checks="Services with a selector that matches the pods of no workload in the same "
    "application and namespace (checked only when it has workloads there). Labels that "
    "controllers add at runtime (`pod-template-hash`, `statefulset.kubernetes.io/pod-name`...) "
    "count, and selectors of pods an operator makes (an owner-like label, or a value naming a "
    "custom resource of the namespace such as a `Prometheus`) are left alone.",
    why="A Service without endpoints accepts connections and refuses or drops them; a typo in "
    "a label, or a label changed on the Deployment only, takes an application off the network "
    "while every object looks healthy. Clients such as service meshes and proxies have also "
    "handled empty endpoint lists badly.",
    fix="Make the selector equal to labels the pod template carries (not the Deployment's own "
    "labels), and alert on Services with zero ready endpoints.",
    fix_example="""kind: Service
spec:
  selector:
    app: web        # must match spec.template.metadata.labels of the Deployment
""",
    references=(
        "https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service",
        "https://kubernetes.io/docs/tasks/debug/debug-application/debug-service/",
    ),
    check_input=check_input,
)
