"""KB026: pods resolving external names through the ndots:5 search-path expansion."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, as_dict, as_int, as_list, dig, pod_spec

MAX_NDOTS = 2


def check(obj, ctx):
    spec, prefix = pod_spec(obj)
    if not spec:
        return
    policy = spec.get("dnsPolicy", "ClusterFirst")
    if policy not in ("ClusterFirst", "ClusterFirstWithHostNet"):
        return
    if policy == "ClusterFirst" and spec.get("hostNetwork") is True:
        return  # falls back to the node's resolver
    ndots = None
    for option in as_list(dig(spec, "dnsConfig", "options")):
        if as_dict(option).get("name") == "ndots":
            ndots = as_int(as_dict(option).get("value"))
    if ndots is None:
        yield Hit(
            f"{prefix}.dnsConfig",
            "no ndots option: with the default ndots:5 every external name with fewer than 5 "
            "dots is first tried against each search domain (4-5 extra queries per lookup, "
            "twice with A and AAAA)",
        )
    elif ndots > MAX_NDOTS:
        yield Hit(
            f"{prefix}.dnsConfig.options",
            f"ndots:{ndots} sends external lookups through the cluster search domains first",
        )


RULE = Rule(
    id="KB026",
    slug="dns-ndots-amplification",
    title="Pod DNS prone to the ndots:5 query amplification",
    severity=Severity.INFO,
    kinds=WORKLOAD_KINDS,
    checks="Pod specs using cluster DNS (`dnsPolicy: ClusterFirst`) with no `dnsConfig` "
    "`ndots` option, or one above 2.",
    why="Kubernetes writes `options ndots:5` and three or more search domains into every pod's "
    "resolv.conf. A lookup of `api.example.com` is first tried as "
    "`api.example.com.<ns>.svc.cluster.local` and so on, so each external lookup costs several "
    "queries (doubled for A and AAAA). Under load this multiplies CoreDNS traffic, meets "
    "conntrack races and musl's parallel queries, and has caused cluster-wide DNS outages.",
    fix="Set `ndots` to 1 or 2 in `dnsConfig` for pods that mostly call external names, use "
    "fully qualified names with a trailing dot, and run NodeLocal DNSCache.",
    fix_example="""spec:
  dnsConfig:
    options:
    - name: ndots
      value: "2"
""",
    references=(
        "https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config",
        "https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/",
    ),
    stories=(
        "zalando-dns-outage-2019",
        "toyota-connected-dns-storm",
        "datadog-10-ways-shoot-foot",
    ),
    check=check,
)
