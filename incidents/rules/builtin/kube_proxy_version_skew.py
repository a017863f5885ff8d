"""KB035: a kube-proxy DaemonSet outside the version skew policy for the nodes' kubelets."""

import re

from incidents.rules.base import ObjectHit, Rule, Severity
from incidents.rules.objects import as_str, containers, dig, image_parts

MINOR = re.compile(r"^v?(\d+)\.(\d+)")


def minor(version: str) -> tuple[int, int] | None:
    match = MINOR.match(version.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def allowed_skew(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Minor versions kube-proxy may differ from its kubelet: 3 from 1.28 on, 0 before."""
    return 3 if min(a, b) >= (1, 28) else 0


def check_input(ctx):
    kubelets = []
    for node in ctx.of_kind("Node"):
        version = minor(as_str(dig(node.data, "status", "nodeInfo", "kubeletVersion")))
        if version:
            kubelets.append((node.name or "<unnamed>", version))
    if not kubelets:
        return
    for ds in ctx.of_kind("DaemonSet"):
        for container, path in containers(ds):
            repo, tag, _ = image_parts(container.get("image"))
            if not repo.endswith("kube-proxy") or not minor(tag):
                continue
            proxy = minor(tag)
            off = [
                (name, v)
                for name, v in kubelets
                if v[0] != proxy[0] or abs(v[1] - proxy[1]) > allowed_skew(v, proxy)
            ]
            if off:
                name, version = off[0]
                yield ObjectHit(
                    ds,
                    f"{path}.image",
                    f"kube-proxy {tag} is outside the version skew policy for {len(off)} of "
                    f"{len(kubelets)} nodes (e.g. {name}, kubelet {version[0]}.{version[1]}): "
                    "upgrade kube-proxy with the kubelets, node by node",
                )


RULE = Rule(
    id="KB035",
    slug="kube-proxy-version-skew",
    title="kube-proxy version outside the skew policy for the nodes' kubelets",
    severity=Severity.WARNING,
    kinds=("DaemonSet", "Node"),
    checks="Over a `kubectl get nodes -o json` list together with the kube-proxy DaemonSet: "
    "warns when the kube-proxy image's minor version differs from a node's kubelet by more "
    "than the version skew policy allows (the same minor before Kubernetes 1.28, up to three "
    "minor versions from 1.28).",
    why="kube-proxy programs every node's service routing (iptables or IPVS). A kube-proxy that "
    "does not match the kubelet beside it can fail to sync its rules as pods churn, leaving "
    "stale service routing on nodes whose pods look healthy: service-to-service traffic fails "
    "everywhere at once, and restarting applications does not help.",
    fix="Upgrade the control plane first, then kubelet and kube-proxy together node by node, "
    "staying inside the documented skew; check both before and after each step:\n\n"
    "`kubectl get nodes -o json > nodes.json`, `kubectl -n kube-system get ds kube-proxy "
    "-o yaml > kube-proxy.yaml`, then `python manage.py kbcheck nodes.json kube-proxy.yaml`.",
    fix_example="""# kube-proxy at the kubelets' minor version
spec:
  template:
    spec:
      containers:
      - name: kube-proxy
        image: registry.k8s.io/kube-proxy:v1.24.17
""",
    references=(
        "https://kubernetes.io/releases/version-skew-policy/#kube-proxy",
        "https://discuss.circleci.com/t/incident-report-2023-03-14-delays-starting-jobs/47555",
    ),
    check_input=check_input,
)
