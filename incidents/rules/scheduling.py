"""Where the scheduler can put a workload's pods: host ports, node pinning, topology labels.

Shared by the rules on pods that cannot be placed (KB038 host ports, KB040 topology spread).
Only what the manifest decides is answered here; how many nodes carry which labels is not.
"""

from __future__ import annotations

import math
from typing import Any

from incidents.rules.objects import (
    K8sObject,
    as_dict,
    as_int,
    as_list,
    as_str,
    containers,
    dig,
    pod_spec,
)

# Node labels Kubernetes itself, the kubelet or cloud providers set
# (https://kubernetes.io/docs/reference/labels-annotations-taints/).
WELL_KNOWN_NODE_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "node.kubernetes.io/instance-type",
        "node.kubernetes.io/windows-build",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
    }
)
_RESERVED_DOMAINS = ("kubernetes.io", "k8s.io")


def host_ports(obj: K8sObject) -> list[str]:
    """`8080/TCP`... each host port the pod takes on its node (with hostNetwork every declared
    container port is one: the API server sets hostPort to containerPort)."""
    host_network = pod_spec(obj)[0].get("hostNetwork") is True
    found = []
    for container, _ in containers(obj, init=True):
        for port in as_list(container.get("ports")):
            port = as_dict(port)
            number = as_int(port.get("hostPort"))
            if number is None and host_network:
                number = as_int(port.get("containerPort"))
            if number:
                found.append(f"{number}/{as_str(port.get('protocol')) or 'TCP'}")
    return sorted(set(found), key=found.index)


def scaled(value: Any, total: int, round_up: bool) -> int | None:
    """An int-or-percent field as a number of pods: `25%` of 2 is 1 rounded up, 0 rounded
    down (maxSurge and PDB budgets round up, maxUnavailable of a rollout rounds down)."""
    text = as_str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        exact = int(text[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return as_int(value)


def pinned_values(spec: dict, key: str) -> set[str] | None:
    """The values of node label `key` the pod template allows, when its nodeSelector or every
    term of its required node affinity restricts it with `In`; None when it is not restricted.
    (`nodeName` pins `kubernetes.io/hostname`.)"""
    if key == "kubernetes.io/hostname" and as_str(spec.get("nodeName")):
        return {as_str(spec["nodeName"])}
    selector = as_dict(spec.get("nodeSelector"))
    if key in selector:
        return {as_str(selector[key])}
    required = dig(
        spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"
    )
    terms = as_list(as_dict(required).get("nodeSelectorTerms"))
    allowed: set[str] = set()
    for term in terms:
        values = None
        for expr in as_list(as_dict(term).get("matchExpressions")):
            expr = as_dict(expr)
            if expr.get("key") == key and expr.get("operator") == "In":
                values = {as_str(v) for v in as_list(expr.get("values"))}
        if values is None:
            return None  # a term that leaves the key free: any value can be chosen
        allowed |= values
    return allowed or None


def unknown_reserved_label(key: Any) -> bool:
    """A label key in the `kubernetes.io`/`k8s.io` namespaces that Kubernetes does not set on
    nodes: those namespaces are reserved, so such a key is almost always a typo."""
    if not isinstance(key, str) or "/" not in key or key in WELL_KNOWN_NODE_LABELS:
        return False
    domain = key.split("/", 1)[0]
    if domain == "node-role.kubernetes.io" or key.startswith("node-restriction.kubernetes.io/"):
        return False  # roles kubeadm sets; labels admins set under the node-restriction prefix
    return any(domain == d or domain.endswith("." + d) for d in _RESERVED_DOMAINS)
