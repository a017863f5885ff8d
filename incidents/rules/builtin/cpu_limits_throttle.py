"""KB001: CPU limits on latency-sensitive containers."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import (
    SERVING_KINDS,
    as_dict,
    containers,
    dig,
    json_pointer,
    quantity,
)


def exclusive_cores(container: dict) -> bool:
    """Whole CPUs with requests equal to limits (cpu and memory): the Guaranteed-QoS shape the
    static CPU manager pins to dedicated cores, where the limit is the point, not a quota."""
    resources = as_dict(container.get("resources"))
    requests, limits = as_dict(resources.get("requests")), as_dict(resources.get("limits"))
    cpu = quantity(limits.get("cpu"))
    memory = quantity(limits.get("memory"))
    if cpu is None or cpu < 1 or cpu != int(cpu) or memory is None:
        return False
    # an omitted request defaults to the limit
    return quantity(requests.get("cpu", limits["cpu"])) == cpu and (
        quantity(requests.get("memory", limits["memory"])) == memory
    )


def _patch(container: dict, path: str, limit) -> tuple[dict, ...]:
    """Drop the CPU limit; keep the CPU the container was scheduled with as its request
    (an omitted request defaults to the limit, so removing the limit alone would lose it)."""
    remove = {"op": "remove", "path": json_pointer(f"{path}.resources.limits.cpu")}
    requests = dig(container, "resources", "requests")
    if isinstance(requests, dict) and "cpu" in requests:
        return (remove,)
    if isinstance(requests, dict):
        add = {"op": "add", "path": json_pointer(f"{path}.resources.requests.cpu"), "value": limit}
    else:
        add = {
            "op": "add",
            "path": json_pointer(f"{path}.resources.requests"),
            "value": {"cpu": limit},
        }
    return (add, remove)


def check(obj, ctx):
    for container, path in containers(obj):
        limit = dig(container, "resources", "limits", "cpu")
        if limit is None or exclusive_cores(container):
            continue
        yield Hit(
            f"{path}.resources.limits.cpu",
            f"container {container.get('name', '?')!s} has a CPU limit of {limit}: the CFS quota "
            "throttles it inside each 100 ms period even while the node has idle CPU, which "
            "shows up as tail latency",
            _patch(container, path, limit),
        )


RULE = Rule(
    id="KB001",
    slug="cpu-limits-throttle",
    title="CPU limit on a latency-sensitive container",
    severity=Severity.WARNING,
    kinds=(*SERVING_KINDS, "Pod"),
    checks="Containers of long-running serving workloads (Deployment, StatefulSet, ReplicaSet, "
    "Pod) that set `resources.limits.cpu`, except whole CPUs with requests equal to limits "
    "(Guaranteed QoS, which the static CPU manager pins to dedicated cores).",
    why="A CPU limit becomes a CFS quota: once a container has used its share of a 100 ms "
    "period it is paused until the next one, even when the node is idle. Multi-threaded services "
    "burn the quota in a few milliseconds and wait, so p95/p99 latency jumps; older kernels "
    "(before 4.19) also throttled containers far below their limit.\n\n"
    'This disagrees with checkov on purpose: its CKV_K8S_11 ("CPU limits should be set") '
    "fails every container without a CPU limit. The stories are the reason: Buffer cut "
    "container latency at least in half by removing the limits of its user-facing services, "
    "Omio traced six months of stalls and failed health checks to throttling, and Zalando "
    "and Airbnb list throttling among the causes of their production latency. A CPU limit "
    "protects neighbours far less than it costs the service: the CPU request already "
    "reserves the share the scheduler counts, and CPU, unlike memory, is given back the "
    "moment a neighbour needs it. Batch and CPU-pinned (Guaranteed, whole-core) workloads "
    "are not reported.",
    fix="For latency-sensitive services, set a CPU *request* sized for normal load and drop the "
    "CPU limit (keep the memory limit), or raise it well above the peak. Watch "
    "`container_cpu_cfs_throttled_periods_total` (runtime rule KBP001) and upgrade node "
    "kernels.",
    fix_example="""resources:
  requests:
    cpu: 500m
    memory: 512Mi
  limits:
    memory: 512Mi   # no cpu limit: the request still reserves CPU for scheduling
""",
    references=(
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
        "https://github.com/kubernetes/kubernetes/issues/67577",
    ),
    check=check,
)
