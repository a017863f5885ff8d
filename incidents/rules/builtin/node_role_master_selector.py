"""KB036: selectors that find nodes by the removed `node-role.kubernetes.io/master` label."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, as_dict, as_list, as_str, dig, pod_spec

MASTER = "node-role.kubernetes.io/master"
# Calico resources whose string selectors pick nodes (projectcalico.org/v3 and the CRDs).
CALICO_SELECTORS = {
    "BGPPeer": ("nodeSelector", "peerSelector"),
    "IPPool": ("nodeSelector",),
}
MESSAGE = (
    f"selects nodes by {MASTER}, which kubeadm stopped applying in 1.24 and removes on upgrade: "
    "after the upgrade this selects no node; use node-role.kubernetes.io/control-plane"
)


def _pod_spec_hits(obj):
    spec, prefix = pod_spec(obj)
    if MASTER in as_dict(spec.get("nodeSelector")):
        yield Hit(f"{prefix}.nodeSelector", MESSAGE)
    required = dig(
        spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"
    )
    for t, term in enumerate(as_list(as_dict(required).get("nodeSelectorTerms"))):
        for e, expr in enumerate(as_list(as_dict(term).get("matchExpressions"))):
            if as_str(as_dict(expr).get("key")) == MASTER:
                path = (
                    f"{prefix}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
                    f".nodeSelectorTerms[{t}].matchExpressions[{e}].key"
                )
                yield Hit(path, MESSAGE)


def check(obj, ctx):
    if obj.kind in WORKLOAD_KINDS:
        yield from _pod_spec_hits(obj)
        return
    for field in CALICO_SELECTORS.get(obj.kind, ()):
        if MASTER in as_str(obj.spec.get(field)):
            yield Hit(f"spec.{field}", MESSAGE)


RULE = Rule(
    id="KB036",
    slug="node-role-master-selector",
    title="Selector on the removed node-role.kubernetes.io/master label",
    severity=Severity.WARNING,
    kinds=(*WORKLOAD_KINDS, "BGPPeer", "IPPool"),
    checks=f"Workloads whose `nodeSelector` or required node affinity uses `{MASTER}`, and "
    "Calico `BGPPeer` and `IPPool` resources whose `nodeSelector` or `peerSelector` mentions it.",
    why="Kubernetes renamed the control-plane node role: from 1.24 kubeadm no longer labels "
    "control-plane nodes `node-role.kubernetes.io/master` and removes the label from existing "
    "nodes during `kubeadm upgrade apply`. Anything that still finds nodes by the old label "
    "silently selects nothing after the upgrade: pods stay Pending, or, for Calico route "
    "reflectors, pod routes stop being distributed and cluster networking breaks.",
    fix="Select by `node-role.kubernetes.io/control-plane` (present since 1.20) before upgrading "
    "to 1.24, and search every CNI, operator and scheduling config for the old label.",
    fix_example="""apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-with-route-reflectors
spec:
  nodeSelector: all()
  peerSelector: has(node-role.kubernetes.io/control-plane)
""",
    references=(
        "https://github.com/kubernetes/kubernetes/pull/107533",
        "https://github.com/kubernetes/enhancements/tree/master/keps/sig-cluster-lifecycle/kubeadm/2067-rename-master-label-taint",
        "https://docs.tigera.io/calico/latest/reference/resources/bgppeer",
    ),
    check=check,
)
