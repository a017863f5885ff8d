"""KB026: pods resolving external names through the ndots:5 search-path expansion."""

from incidents.rules.base import Hit, Param, Rule, Severity
from incidents.rules.dnsnames import external_hosts
from incidents.rules.objects import WORKLOAD_KINDS, as_dict, as_int, as_list, dig, pod_spec

MAX_NDOTS = 2


def _bad(value: str):
    raise ValueError("expected evidence or all")


def check(obj, ctx):
    spec, prefix = pod_spec(obj)
    if not spec:
        return
    policy = spec.get("dnsPolicy", "ClusterFirst")
    if policy not in ("ClusterFirst", "ClusterFirstWithHostNet"):
        return
    if policy == "ClusterFirst" and spec.get("hostNetwork") is True:
        return  # falls back to the node's resolver
    ndots = 5
    for option in as_list(dig(spec, "dnsConfig", "options")):
        if as_dict(option).get("name") == "ndots":
            ndots = as_int(as_dict(option).get("value")) or 0
    if ndots <= MAX_NDOTS:
        return
    hosts = sorted(external_hosts(obj))
    minimum = int(ctx.param("ndots-min-external-hosts") or 3)
    if ctx.param("ndots-check") != "all" and len(hosts) < minimum:
        return  # no sign of many external lookups: most pods do not suffer from ndots:5
    evidence = (
        f" ({len(hosts)} external names in env/args: {', '.join(hosts[:3])})" if hosts else ""
    )
    yield Hit(
        f"{prefix}.dnsConfig",
        f"ndots:{ndots} sends every external name with fewer than {ndots} dots through each "
        f"cluster search domain first{evidence}: 4-5 extra queries per lookup, twice for A "
        "and AAAA",
    )


RULE = Rule(
    id="KB026",
    slug="dns-ndots-amplification",
    title="Pod DNS prone to the ndots:5 query amplification",
    severity=Severity.INFO,
    kinds=WORKLOAD_KINDS,
    checks="Pod specs using cluster DNS (`dnsPolicy: ClusterFirst`) with `ndots` above 2 (the "
    "default is 5) that show they make external lookups: at least "
    "`ndots-min-external-hosts` (3) distinct external host names in env values, commands or "
    "args. How many lookups a workload makes is not in its manifest, so without that "
    "evidence the rule stays silent unless `--param ndots-check=all` asks for every pod.",
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
    params=(
        Param(
            "ndots-check",
            "`evidence` (default): report only pods naming several external hosts; `all`: "
            "every pod using cluster DNS with ndots above 2",
            "evidence",
            validate=lambda v: v in ("evidence", "all") or _bad(v),
        ),
        Param(
            "ndots-min-external-hosts",
            "External host names in a pod's env/args that count as evidence",
            "3",
            validate=int,
        ),
    ),
    check=check,
)
