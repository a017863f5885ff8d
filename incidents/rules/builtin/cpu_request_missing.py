"""KB032: containers without a CPU request."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, containers, dig


def check(obj, ctx):
    for container, path in containers(obj):
        resources = container.get("resources")
        if dig(resources, "requests", "cpu") is None and dig(resources, "limits", "cpu") is None:
            yield Hit(
                f"{path}.resources.requests.cpu",
                f"container {container.get('name', '?')!s} has no CPU request: the scheduler "
                "treats it as needing no CPU and may stack busy pods on one node",
            )


RULE = Rule(
    id="KB032",
    slug="cpu-request-missing",
    title="Container without a CPU request",
    severity=Severity.INFO,
    kinds=WORKLOAD_KINDS,
    checks="Containers with neither `resources.requests.cpu` nor a CPU limit (which would "
    "set the request).",
    why="The scheduler places pods by their requests. Without a CPU request, CPU-heavy pods "
    "can all be put on the same node, which then runs at 100% and starves the kubelet and "
    "every other pod on it; the CPU request is also what guarantees a share once limits are "
    "removed.",
    fix="Set a CPU request close to the container's normal use (from metrics), whether or not "
    "you set a CPU limit.",
    fix_example="""resources:
  requests:
    cpu: 250m
    memory: 256Mi
  limits:
    memory: 256Mi
""",
    references=(
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#how-pods-with-resource-requests-are-scheduled",
    ),
    check=check,
)
