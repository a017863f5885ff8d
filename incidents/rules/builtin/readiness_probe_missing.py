"""KB003: a workload behind a Service without a readiness probe."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import SERVING_KINDS


def check(obj, ctx):
    for container, path, service in ctx.serving_containers(obj):
        if "readinessProbe" in container:
            continue
        yield Hit(
            f"{path}.readinessProbe",
            f"container {container.get('name', '?')!s} serves Service "
            f"{service.name} but has no readiness probe: it gets traffic as soon as it "
            "starts and until it is killed",
        )


RULE = Rule(
    id="KB003",
    slug="readiness-probe-missing",
    title="Container behind a Service without a readiness probe",
    severity=Severity.WARNING,
    kinds=(*SERVING_KINDS, "DaemonSet", "Pod"),
    checks="Containers without a `readinessProbe` that a Service of the same application and "
    "namespace sends traffic to: the container exposing the Service's `targetPort` (number or "
    "name), DaemonSets included.",
    why="Without a readiness probe a pod is added to the Service's endpoints the moment its "
    "containers start, before the application listens, and stays there while it is overloaded "
    "or shutting down. Clients and ingress load balancers then see connection errors and 502s "
    "on every rollout and restart.",
    fix="Add a cheap readiness probe on an endpoint that answers only when the application can "
    "serve (dependencies optional: do not fail readiness on a shared database).",
    fix_example="""readinessProbe:
  httpGet:
    path: /ready
    port: http
  periodSeconds: 5
  failureThreshold: 2
""",
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
    ),
    check=check,
)
