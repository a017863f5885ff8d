"""KB007: no preStop delay on pods behind a Service or Ingress."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import SERVING_KINDS, dig


def check(obj, ctx):
    for container, path, service in ctx.serving_containers(obj):
        if isinstance(dig(container, "lifecycle", "preStop"), dict):
            continue
        yield Hit(
            f"{path}.lifecycle.preStop",
            f"container {container.get('name', '?')!s} serves Service {service.name} but "
            "has no preStop delay: it gets SIGTERM while kube-proxy and load balancers still "
            "send it traffic, so rollouts cause 502s",
        )


RULE = Rule(
    id="KB007",
    slug="prestop-delay-missing",
    title="No preStop delay for a pod behind a Service",
    severity=Severity.WARNING,
    kinds=(*SERVING_KINDS, "DaemonSet", "Pod"),
    checks="Containers without a `lifecycle.preStop` hook that a Service of the same "
    "application and namespace sends traffic to (the container exposing its `targetPort`).",
    why="On deletion, Kubernetes sends SIGTERM and removes the pod from endpoints at the same "
    "time. kube-proxy on every node, ingress controllers and cloud load balancers learn about "
    "the removal seconds later, and meanwhile keep sending requests to a process that is "
    "shutting down: 502s and reset connections on every deploy, scale-down and node drain.",
    fix="Add a preStop hook that waits a few seconds (longer behind cloud load balancers) before "
    "the application receives SIGTERM, and keep `terminationGracePeriodSeconds` above that "
    "delay plus the time to drain in-flight requests.",
    fix_example="""spec:
  terminationGracePeriodSeconds: 45
  containers:
  - name: app
    lifecycle:
      preStop:
        sleep:
          seconds: 15   # Kubernetes 1.30+; older: exec: {command: ["sleep", "15"]}
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination",
        "https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/",
    ),
    check=check,
)
