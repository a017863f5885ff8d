"""KB031: node pod ranges approaching what the cluster pod CIDR holds."""

import ipaddress

from incidents.rules.base import ObjectHit, Param, Rule, Severity
from incidents.rules.objects import as_list, as_str


def networks(value: str):
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    ]


def check_input(ctx):
    value = ctx.param("pod-cidr")
    if not value:
        return
    ratio = float(ctx.param("pod-cidr-warn-ratio") or 0.8)
    for cidr in networks(value):
        allocated = {}
        for node in ctx.of_kind("Node"):
            ranges = as_list(node.spec.get("podCIDRs")) or [node.spec.get("podCIDR")]
            for i, text in enumerate(ranges):
                try:
                    net = ipaddress.ip_network(as_str(text), strict=False)
                except ValueError:
                    continue
                if net.version == cidr.version and net.subnet_of(cidr):
                    path = f"spec.podCIDRs[{i}]" if "podCIDRs" in node.spec else "spec.podCIDR"
                    allocated[net] = (node, path)
        if not allocated:
            continue
        prefix = max(net.prefixlen for net in allocated)
        capacity = 2 ** (prefix - cidr.prefixlen)
        used = len(allocated)
        if used >= ratio * capacity:
            node, path = allocated[max(allocated)]
            yield ObjectHit(
                node,
                path,
                f"{used} of the {capacity} /{prefix} node ranges in pod CIDR {cidr} are "
                f"allocated ({used / capacity:.0%}): at {capacity} nodes the cluster "
                "cannot add nodes, so pods stay Pending and autoscaling stops",
            )


def _validate_cidr(value: str) -> None:
    networks(value)


def _validate_ratio(value: str) -> None:
    if not 0 < float(value) <= 1:
        raise ValueError("must be a number in (0, 1]")


RULE = Rule(
    id="KB031",
    slug="pod-cidr-exhaustion",
    title="Node pod ranges close to exhausting the cluster pod CIDR",
    severity=Severity.WARNING,
    kinds=("Node",),
    checks="Over a `kubectl get nodes -o json` list and the cluster's pod CIDR (parameter "
    "`pod-cidr`, e.g. `10.0.0.0/16`): warns when the nodes' `spec.podCIDR` ranges use "
    "`pod-cidr-warn-ratio` (default 0.8) or more of the ranges the CIDR can hold.",
    why="Each node takes a fixed block of the pod CIDR (a /24, 256 addresses, on GKE by "
    "default), whatever number of pods it runs. A /16 then holds only 256 nodes; past that the "
    "autoscaler cannot add nodes, new pods stay Pending, and deployments and HPAs stall.",
    fix="Plan the pod range for the largest node count: lower the maximum pods per node (a "
    "smaller block per node), add a further pod range (GKE discontiguous multi-pod CIDR), or "
    "use fewer, larger nodes.",
    fix_example="""# GKE: a node pool with /26 blocks (max 32 pods per node) instead of /24
gcloud container node-pools create pool-b --cluster prod \\
  --max-pods-per-node 32
""",
    references=(
        "https://cloud.google.com/kubernetes-engine/docs/how-to/flexible-pod-cidr",
        "https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/#NodeSpec",
    ),
    params=(
        Param("pod-cidr", "The cluster's pod CIDR(s), comma-separated", None, _validate_cidr),
        Param(
            "pod-cidr-warn-ratio",
            "Share of node ranges in use at which to warn",
            "0.8",
            _validate_ratio,
        ),
    ),
    check_input=check_input,
)
