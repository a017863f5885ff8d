"""KB033: cluster DNS servers with a tight memory limit."""

from incidents.rules.base import Hit, Param, Rule, Severity
from incidents.rules.objects import containers, dig, image_parts, quantity

DNS_IMAGES = ("coredns", "k8s-dns-kube-dns", "k8s-dns-dnsmasq", "k8s-dns-node-cache", "dnsmasq")


def check(obj, ctx):
    minimum = quantity(ctx.param("dns-min-memory-limit") or "256Mi") or 0
    for container, path in containers(obj):
        repository = image_parts(container.get("image"))[0].rsplit("/", 1)[-1]
        if repository not in DNS_IMAGES:
            continue
        raw = dig(container, "resources", "limits", "memory")
        limit = quantity(raw)
        if limit is not None and limit < minimum:
            yield Hit(
                f"{path}.resources.limits.memory",
                f"DNS server {container.get('name', '?')!s} has a {raw} memory limit: a query "
                "spike (retries, ndots expansion) OOM-kills all replicas together",
            )


def _validate(value: str) -> None:
    if quantity(value) is None:
        raise ValueError("not a Kubernetes quantity like 256Mi")


RULE = Rule(
    id="KB033",
    slug="dns-memory-limit-low",
    title="Cluster DNS with a tight memory limit",
    severity=Severity.WARNING,
    kinds=("Deployment", "DaemonSet"),
    checks="CoreDNS, kube-dns, dnsmasq and NodeLocal DNSCache containers whose memory limit "
    "is below `dns-min-memory-limit` (default 256Mi).",
    why="DNS memory grows with the number of queries in flight and the cache, and every pod "
    "depends on it. Limits sized for a quiet day get all replicas OOM-killed at once during a "
    "retry storm, and restarted replicas are killed again under the same load: a total DNS "
    "outage.",
    fix="Size the limit for peak load (CoreDNS documents memory per 1000 pods and services), "
    "scale replicas with the cluster (cluster-proportional-autoscaler), and cache on nodes "
    "with NodeLocal DNSCache.",
    fix_example="""containers:
- name: coredns
  image: registry.k8s.io/coredns/coredns:v1.11.1
  resources:
    requests: {cpu: 100m, memory: 256Mi}
    limits: {memory: 1Gi}
""",
    references=(
        "https://github.com/coredns/deployment/blob/master/kubernetes/Scaling_CoreDNS.md",
        "https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/",
    ),
    params=(
        Param(
            "dns-min-memory-limit",
            "Smallest acceptable memory limit for cluster DNS servers",
            "256Mi",
            _validate,
        ),
    ),
    check=check,
)
