"""Runtime rules: Prometheus alerts for failures that manifests cannot show.

Each carries a PromQL `expr`, how long it must hold (`for_`), labels and a templated `summary`.
Every expression is checked with `promtool check rules` and has a `promtool test rules` unit
test in tests/rules/promtool/<ID>.yaml showing it fires on synthetic series and stays quiet.
Metrics come from cAdvisor (kubelet), kube-state-metrics, node_exporter, CoreDNS and fluent-bit.
"""

from incidents.rules.base import RuntimeRule, Severity

CPU_THROTTLING = RuntimeRule(
    id="KBP001",
    slug="cpu-throttling-high",
    title="Containers throttled in more than a quarter of CFS periods",
    severity=Severity.WARNING,
    kinds=("Pod",),
    checks="The share of CFS periods in which a container was throttled, over 5 minutes, "
    "above 25% for 15 minutes (cAdvisor metrics).",
    why="Throttling is invisible in CPU usage graphs: a container can be paused in most "
    "100 ms periods while averaging far below its limit. It shows up as latency and failed "
    "health checks long before anyone suspects the CPU limit.",
    fix="Raise or remove the CPU limit of latency-sensitive containers (manifest rule KB001), "
    "keep a CPU request, and upgrade kernels older than 4.19.",
    fix_example="""resources:
  requests: {cpu: "1", memory: 1Gi}
  limits: {memory: 1Gi}
""",
    references=(
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
        "https://github.com/google/cadvisor/blob/master/docs/storage/prometheus.md",
    ),
    expr="sum by (namespace, pod, container) (\n"
    '  rate(container_cpu_cfs_throttled_periods_total{container!=""}[5m]))\n'
    "/ sum by (namespace, pod, container) (\n"
    '  rate(container_cpu_cfs_periods_total{container!=""}[5m]))\n'
    "> 0.25",
    for_="15m",
    annotations={
        "summary": "{{ $labels.namespace }}/{{ $labels.pod }} container {{ $labels.container }} "
        "is CPU-throttled in more than 25% of periods"
    },
)

DNS_ERRORS = RuntimeRule(
    id="KBP002",
    slug="dns-servfail-ratio",
    title="Cluster DNS answering SERVFAIL",
    severity=Severity.WARNING,
    kinds=("Deployment",),
    checks="The share of CoreDNS responses with rcode SERVFAIL above 1% for 5 minutes.",
    why="When cluster DNS fails, every service fails in ways that look like their own bugs: "
    "timeouts, connection errors, retries that add more DNS load. SERVFAIL is the earliest "
    "signal, before pods are OOM-killed or conntrack entries go stale.",
    fix="Check CoreDNS replicas, memory limits (KB033) and upstream resolvers; lower ndots "
    "(KB026) and add NodeLocal DNSCache to cut query volume.",
    fix_example="""spec:
  dnsConfig:
    options:
    - {name: ndots, value: "2"}
""",
    references=("https://coredns.io/plugins/metrics/",),
    expr='sum by (job) (rate(coredns_dns_responses_total{rcode="SERVFAIL"}[5m]))\n'
    "  / sum by (job) (rate(coredns_dns_responses_total[5m]))\n"
    "  > 0.01",
    for_="5m",
    annotations={"summary": "more than 1% of {{ $labels.job }} DNS answers are SERVFAIL"},
)

LOGS_NOT_DELIVERED = RuntimeRule(
    id="KBP003",
    slug="node-logs-not-delivered",
    title="A node's log shipper reads logs but delivers none",
    severity=Severity.WARNING,
    kinds=("DaemonSet",),
    checks="Per fluent-bit instance (one per node): input records are flowing but no output "
    "record was delivered for 15 minutes.",
    why="A log pipeline fails one node at a time and silently: the other nodes' logs keep "
    "arriving, dashboards look normal, and the gap is noticed when someone needs exactly "
    "those logs. Watching volume per node is what catches it.",
    fix="Look at the shipper's output errors and retries on that node (Elasticsearch bulk "
    "rejections, buffer limits), restart or replace it, and black-box test the pipeline by "
    "logging a canary line from every node and alerting when it does not arrive.",
    fix_example="""# fluent-bit YAML configuration: expose metrics per node
service:
  http_server: on
  http_listen: 0.0.0.0
  http_port: 2020
""",
    references=(
        "https://docs.fluentbit.io/manual/administration/monitoring",
        "https://prometheuskube.com/why-we-switched-from-fluent-bit-to-fluentd-in-2-hours",
    ),
    expr="sum by (instance) (rate(fluentbit_input_records_total[10m])) > 0\n"
    "unless\n"
    "sum by (instance) (rate(fluentbit_output_proc_records_total[10m])) > 0",
    for_="15m",
    annotations={"summary": "fluent-bit on {{ $labels.instance }} reads logs but delivers none"},
)

LOGS_DROPPED = RuntimeRule(
    id="KBP004",
    slug="log-records-dropped",
    title="Log shipper dropping records after failed retries",
    severity=Severity.WARNING,
    kinds=("DaemonSet",),
    checks="fluent-bit outputs whose retries failed (records given up) in the last 10 minutes.",
    why="Once retries are exhausted the records are gone; the backend's bulk rejections are "
    "only visible in the shipper's own logs, which are usually not shipped anywhere useful.",
    fix="Fix the backend's rejections (capacity, mapping errors), give the output a "
    "filesystem buffer and more retries, and alert on this before logs are needed.",
    fix_example="""# fluent-bit (YAML configuration)
pipeline:
  outputs:
  - name: es
    match: "*"
    retry_limit: 10
    storage.total_limit_size: 5G
""",
    references=("https://docs.fluentbit.io/manual/administration/monitoring",),
    expr="sum by (instance, name) (increase(fluentbit_output_retries_failed_total[10m])) > 0",
    for_="0m",
    annotations={
        "summary": "fluent-bit on {{ $labels.instance }} dropped records of output "
        "{{ $labels.name }}"
    },
)

PODS_PENDING = RuntimeRule(
    id="KBP005",
    slug="pods-pending-long",
    title="Pods pending for 15 minutes",
    severity=Severity.WARNING,
    kinds=("Pod",),
    checks="Namespaces with Pending pods for 15 minutes (kube-state-metrics).",
    why="Pods stay Pending when the cluster cannot grow or place them: exhausted pod IP "
    "ranges, quotas, node selectors nothing satisfies, a stuck autoscaler. Deployments then "
    "hang half-rolled, and HPAs scale out on paper only.",
    fix="Read the pods' events (`kubectl describe pod`) and the cluster autoscaler's status; "
    "for IP exhaustion check node pod ranges against the pod CIDR (KB031).",
    fix_example="""kubectl get pods -A --field-selector=status.phase=Pending
kubectl describe pod <name> | sed -n '/Events/,$p'
""",
    references=(
        "https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/",
        "https://github.com/kubernetes/kube-state-metrics/blob/main/docs/metrics/workload/pod-metrics.md",
    ),
    expr='sum by (namespace) (kube_pod_status_phase{phase="Pending"}) > 0',
    for_="15m",
    annotations={"summary": "{{ $labels.namespace }} has pods Pending for 15 minutes"},
)

CONNTRACK_FULL = RuntimeRule(
    id="KBP006",
    slug="conntrack-table-filling",
    title="Node conntrack table above 80%",
    severity=Severity.WARNING,
    kinds=("Node",),
    checks="node_exporter's `node_nf_conntrack_entries` above 80% of "
    "`node_nf_conntrack_entries_limit` for 5 minutes.",
    why="Every connection through kube-proxy's NAT takes a conntrack entry. When the table is "
    "full the kernel drops new packets: connection resets and timeouts on the busiest, most "
    "network-heavy pods, with nothing in the application logs explaining why.",
    fix="Raise `nf_conntrack_max` (kube-proxy `--conntrack-min`, or larger nodes, since the "
    "default scales with memory), shorten timeouts for closed connections, and spread "
    "network-heavy pods.",
    fix_example="""# kube-proxy configuration
conntrack:
  maxPerCore: 65536
  min: 524288
""",
    references=(
        "https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/",
        "https://deploy.live/blog/kubernetes-networking-problems-due-to-the-conntrack/",
    ),
    expr="node_nf_conntrack_entries / node_nf_conntrack_entries_limit > 0.8",
    for_="5m",
    annotations={"summary": "conntrack table on {{ $labels.instance }} is above 80% full"},
)

CONNTRACK_INSERT_FAILED = RuntimeRule(
    id="KBP007",
    slug="conntrack-insert-failed",
    title="Conntrack insertions failing (DNAT/SNAT races)",
    severity=Severity.WARNING,
    kinds=("Node",),
    checks="node_exporter's `node_conntrack_stat_insert_failed` increasing over 5 minutes.",
    why="Failed insertions mean packets dropped by the kernel's NAT race: typically the "
    "parallel A and AAAA DNS queries of one socket, which then wait 5 seconds for a retry. "
    "The symptom is intermittent delays in multiples of 5 seconds.",
    fix="Use `single-request-reopen` (glibc) or NodeLocal DNSCache, TCP for DNS where possible, "
    "and fully random SNAT port allocation in the CNI.",
    fix_example="""spec:
  dnsConfig:
    options:
    - {name: single-request-reopen}
    - {name: ndots, value: "2"}
""",
    references=(
        "https://github.com/prometheus/node_exporter/blob/master/collector/conntrack_linux.go",
        "https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/",
    ),
    expr="sum by (instance) (increase(node_conntrack_stat_insert_failed[5m])) > 0",
    for_="0m",
    annotations={"summary": "conntrack insertions fail on {{ $labels.instance }}"},
)

OOM_KILLED = RuntimeRule(
    id="KBP008",
    slug="container-oom-killed",
    title="Container restarted after an OOM kill",
    severity=Severity.WARNING,
    kinds=("Pod",),
    checks="Containers that restarted in the last 15 minutes and whose last termination "
    "reason is OOMKilled (kube-state-metrics).",
    why="OOM kills of shared infrastructure (DNS, ingress, the API server) come in waves: all "
    "replicas hit the same limit under the same load and restart together, and restarted "
    "replicas are killed again while the load lasts.",
    fix="Size memory limits for peak load, not normal usage; add replicas or a concurrency "
    "limit so load per pod is bounded.",
    fix_example="""resources:
  requests: {memory: 512Mi}
  limits: {memory: 2Gi}
""",
    references=(
        "https://github.com/kubernetes/kube-state-metrics/blob/main/docs/metrics/workload/pod-metrics.md",
    ),
    expr="(sum by (namespace, pod, container) "
    "(increase(kube_pod_container_status_restarts_total[15m])) > 0)\n"
    "and on (namespace, pod, container)\n"
    "(max by (namespace, pod, container) (\n"
    '  kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}) == 1)',
    for_="0m",
    annotations={
        "summary": "{{ $labels.namespace }}/{{ $labels.pod }} container {{ $labels.container }} "
        "was OOM-killed"
    },
)

NODE_NOT_READY = RuntimeRule(
    id="KBP009",
    slug="node-not-ready",
    title="Node NotReady for 5 minutes",
    severity=Severity.ERROR,
    kinds=("Node",),
    checks="Nodes whose Ready condition has not been true for 5 minutes (kube-state-metrics).",
    why="NotReady nodes lose their pods after the eviction timeout; when many go NotReady at "
    "once (API server unreachable behind a load balancer whose IP changed, PLEG stalls, "
    "system OOM) the cluster loses capacity faster than it can replace it.",
    fix="Check the kubelet's logs and its connection to the API server; reserve memory for "
    "the system (`--system-reserved`, `--kube-reserved`) and set memory limits on pods.",
    fix_example="""# kubelet configuration
systemReserved: {memory: 1Gi, cpu: 500m}
kubeReserved: {memory: 1Gi, cpu: 500m}
evictionHard: {memory.available: 500Mi}
""",
    references=(
        "https://kubernetes.io/docs/concepts/architecture/nodes/#condition",
        "https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/",
    ),
    expr='kube_node_status_condition{condition="Ready",status="true"} == 0',
    for_="5m",
    annotations={"summary": "node {{ $labels.node }} is not Ready"},
)

APISERVER_LATENCY = RuntimeRule(
    id="KBP010",
    slug="apiserver-latency-high",
    title="API server 99th percentile latency above one second",
    severity=Severity.WARNING,
    kinds=("Node",),
    checks="Per verb, the 99th percentile of `apiserver_request_duration_seconds` over 5 "
    "minutes above 1 second for 10 minutes, leaving out watches, LISTs and long-running "
    "subresources (exec, attach, logs, port-forward, proxy).",
    why="A slow API server is the first sign of a control plane being overloaded: too many "
    "objects of one kind, per-node agents whose calls grow with the cluster, or a runaway "
    "controller. Past that point kubectl, deployments and controllers time out, and the "
    "people who must fix it lose their access.",
    fix="Find who is calling (`apiserver_request_total` by resource, verb and user agent), "
    "stop or throttle it; put per-node agents in a low-priority API Priority and Fairness "
    "level so they cannot starve admin traffic; cap custom resource counts; scale the "
    "control plane for the node count.",
    fix_example="""apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: node-agents
spec:
  priorityLevelConfiguration: {name: workload-low}
  matchingPrecedence: 1000
  rules:
  - subjects:
    - kind: ServiceAccount
      serviceAccount: {name: telemetry-agent, namespace: monitoring}
    resourceRules:
    - {verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"]}
""",
    references=(
        "https://kubernetes.io/docs/reference/instrumentation/metrics/",
        "https://kubernetes.io/docs/concepts/cluster-administration/flow-control/",
    ),
    expr="histogram_quantile(0.99, sum by (le, verb) (\n"
    "  rate(apiserver_request_duration_seconds_bucket{\n"
    '  verb!~"WATCH|WATCHLIST|CONNECT|LIST",\n'
    '  subresource!~"exec|attach|log|portforward|proxy"}[5m])))\n'
    "> 1",
    for_="10m",
    annotations={"summary": "API server {{ $labels.verb }} requests take over 1s (p99)"},
)

PODS_CRASH_LOOPING = RuntimeRule(
    id="KBP011",
    slug="pods-crash-looping",
    title="Containers in CrashLoopBackOff for 15 minutes",
    severity=Severity.WARNING,
    kinds=("Pod",),
    checks="Per namespace, containers waiting with reason CrashLoopBackOff for 15 minutes "
    "(kube-state-metrics).",
    why="One crash-looping pod is an application bug; many at once, across workloads, means a "
    "change underneath them all: a sidecar injected everywhere, a broken CNI or node "
    "configuration, a missing permission. Counting them per namespace shows the scope before "
    "anyone starts debugging single applications.",
    fix="Read the previous container's logs (`kubectl logs --previous`, and the sidecar's), "
    "compare with what changed in the cluster at the time, and roll out cluster-wide changes "
    "(meshes, CNI, admission) namespace by namespace.",
    fix_example="""kubectl get pods -A --field-selector=status.phase=Running | grep CrashLoopBackOff
kubectl logs <pod> -c <container> --previous
""",
    references=(
        "https://github.com/kubernetes/kube-state-metrics/blob/main/docs/metrics/workload/pod-metrics.md",
        "https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/",
    ),
    expr="sum by (namespace) (\n"
    '  kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}) > 0',
    for_="15m",
    annotations={"summary": "{{ $labels.namespace }} has {{ $value }} containers crash-looping"},
)

TCP_RETRANSMITS = RuntimeRule(
    id="KBP012",
    slug="node-tcp-retransmits-high",
    title="Node retransmitting more than 2% of TCP segments",
    severity=Severity.WARNING,
    kinds=("Node",),
    checks="node_exporter's `node_netstat_Tcp_RetransSegs` over `node_netstat_Tcp_OutSegs`, "
    "over 5 minutes, above 2% for 15 minutes.",
    why="Packets lost between pods and the outside world (address translation that breaks some "
    "flows, MTU mismatches, overloaded NAT) show up in applications as intermittent timeouts "
    "and slowness that no application metric explains. The node's retransmission rate is the "
    "signal packet captures eventually find.",
    fix="Compare the rate across nodes and before and after network changes; check the CNI's "
    "source NAT settings for traffic leaving the VPC (on the Amazon VPC CNI "
    "`AWS_VPC_K8S_CNI_EXTERNALSNAT` and `AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS`), the MTU, and "
    "conntrack (KBP006, KBP007).",
    fix_example="""# aws-node DaemonSet: let the NAT gateway translate traffic leaving the VPC
env:
- {name: AWS_VPC_K8S_CNI_EXTERNALSNAT, value: "true"}
""",
    references=(
        "https://github.com/prometheus/node_exporter/blob/master/collector/netstat_linux.go",
        "https://github.com/aws/amazon-vpc-cni-k8s#aws_vpc_k8s_cni_externalsnat",
    ),
    expr="sum by (instance) (rate(node_netstat_Tcp_RetransSegs[5m]))\n"
    "/ sum by (instance) (rate(node_netstat_Tcp_OutSegs[5m]))\n"
    "> 0.02",
    for_="15m",
    annotations={"summary": "{{ $labels.instance }} retransmits more than 2% of its TCP segments"},
)

RUNTIME_RULES = (
    CPU_THROTTLING,
    DNS_ERRORS,
    LOGS_NOT_DELIVERED,
    LOGS_DROPPED,
    PODS_PENDING,
    CONNTRACK_FULL,
    CONNTRACK_INSERT_FAILED,
    OOM_KILLED,
    NODE_NOT_READY,
    APISERVER_LATENCY,
    PODS_CRASH_LOOPING,
    TCP_RETRANSMITS,
)
