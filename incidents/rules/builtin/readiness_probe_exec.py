"""KB006: readiness probes that run a command."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, as_dict, containers


def check(obj, ctx):
    for container, path in containers(obj):
        if "exec" in as_dict(container.get("readinessProbe")):
            yield Hit(
                f"{path}.readinessProbe.exec",
                f"container {container.get('name', '?')!s}: exec readiness probe starts a "
                "process in the container every period",
            )


RULE = Rule(
    id="KB006",
    slug="readiness-probe-exec",
    title="Readiness probe that runs a command",
    severity=Severity.WARNING,
    kinds=WORKLOAD_KINDS,
    checks="Containers whose `readinessProbe` uses `exec`.",
    why="An exec probe forks a process through the container runtime every `periodSeconds` "
    "(readiness probes run for the pod's whole life, often every few seconds). On busy nodes "
    "this loads the runtime and kubelet, leaves zombie processes when the image has no init, "
    "and a slow runtime makes probes time out on healthy pods.",
    fix="Prefer an `httpGet`, `tcpSocket` or `grpc` probe served by the application. If a "
    "command is unavoidable, probe less often and run an init process (`tini`, "
    "`shareProcessNamespace`).",
    fix_example="""readinessProbe:
  httpGet:
    path: /ready
    port: http
  periodSeconds: 10
""",
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
    ),
    check=check,
)
