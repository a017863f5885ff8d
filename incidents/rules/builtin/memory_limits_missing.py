"""KB002: containers without a memory limit (and without a memory request)."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, containers, dig


def check(obj, ctx):
    for container, path in containers(obj, init=True):
        name = container.get("name", "?")
        limit = dig(container, "resources", "limits", "memory")
        request = dig(container, "resources", "requests", "memory")
        if limit is None:
            yield Hit(
                f"{path}.resources.limits.memory",
                f"container {name!s} has no memory limit: it can use up the node's memory and "
                "get the node into SystemOOM, killing its neighbours",
            )
            if request is None:  # a limit alone also sets the request, so only flag both
                yield Hit(
                    f"{path}.resources.requests.memory",
                    f"container {name!s} has no memory request: the scheduler places it as if "
                    "it needed no memory",
                )


RULE = Rule(
    id="KB002",
    slug="memory-limits-missing",
    title="Container without memory request or limit",
    severity=Severity.WARNING,
    kinds=WORKLOAD_KINDS,
    checks="Containers and init containers without `resources.limits.memory`, and those "
    "without any memory request either.",
    why="Without a memory request the scheduler packs pods onto nodes regardless of what they "
    "use; without a limit one leaking or bursting container (a log shipper, a batch job) eats "
    "the node's memory until the kernel OOM killer or the kubelet's evictions take out "
    "unrelated pods and the node goes `NotReady`.",
    fix="Measure the container's working set and set a memory request near normal use and a "
    "limit above its peak. Memory is not compressible: unlike CPU, a memory limit is the safe "
    "default.",
    fix_example="""resources:
  requests:
    memory: 256Mi
  limits:
    memory: 512Mi
""",
    references=(
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
        "https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/",
    ),
    check=check,
)
