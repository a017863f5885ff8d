"""The second relevance suite: short queries as typed in a hurry (one to three words), including
Chinese and misspelt ones, each with the stories that must rank in the top 3 (`must`) and the
ones that are also relevant (`also`, graded lower for nDCG@5).

Written from the story records (titles, technologies, symptoms, summaries), not from search
output. A query passes hit@3 when any `must` story is in the top 3. Graded gains for nDCG@5:
`must` stories 2, `also` stories 1; the ideal ranking puts every graded story in gain order.
Used by `tests/search/test_relevance_short.py` (thresholds) and `bench/relevance.py` (numbers).
"""

from __future__ import annotations

import math
from typing import NamedTuple


class Case(NamedTuple):
    query: str
    must: tuple[str, ...]
    also: tuple[str, ...] = ()
    kind: str = "english"  # english | chinese | typo


def _c(query: str, must: str, also: str = "", kind: str = "english") -> Case:
    return Case(query, tuple(must.split()), tuple(also.split()), kind)


ZALANDO_SKIPPER = "zalando-kubecon-2019 zalando-containerdays-2019"
ZALANDO_APISERVER_OOM = (
    "zalando-million-ways-crash zalando-fallacies-distributed-aws zalando-hamburg-meetup-2019"
)
MONZO = "monzo-payments-outage-2017 monzo-anatomy-of-outage"
CPU_LIMITS = "buffer-remove-cpu-limits omio-cpu-limits-throttling"
IP_EXHAUSTION = "loveholidays-gke-ip-exhaustion neon-delayed-compute-starts"
CONNTRACK_OTHERS = (
    "preply-dns-postmortem mindtickle-intermittent-delays prezi-kubernetes-crime-story "
    "tinder-move-to-kubernetes"
)

CASES: list[Case] = [
    # Technologies, error strings and word forms, in English.
    _c("cryptominer", "jwplayer-cryptominer"),
    _c("cryptominer in cluster", "jwplayer-cryptominer"),
    _c("crypto miner", "jwplayer-cryptominer"),
    _c("cryptocurrency mining", "jwplayer-cryptominer"),
    _c("weave scope exposed", "jwplayer-cryptominer"),
    _c("oom killed coredns", "zalando-dns-outage-2019"),
    _c("conntrack table full", "loveholidays-conntrack-networking", CONNTRACK_OTHERS),
    _c("connection tracking", "loveholidays-conntrack-networking", CONNTRACK_OTHERS),
    _c("cpu limits", CPU_LIMITS, "airbnb-p95s-worse civis-breaking-kubernetes"),
    _c("cfs throttling", CPU_LIMITS),
    _c("ndots", "toyota-connected-dns-storm", "zalando-dns-outage-2019 datadog-10-ways-shoot-foot"),
    _c("alpine dns", "toyota-connected-dns-storm mindtickle-intermittent-delays"),
    _c("dns 5 seconds", "mindtickle-intermittent-delays", "tinder-move-to-kubernetes"),
    _c("kiam", "adevinta-latency-10x-kiam-dns"),
    _c("latency 10x", "adevinta-latency-10x-kiam-dns", "airbnb-p95s-worse"),
    _c(
        "kube2iam",
        "zalando-kubelet-qps-build-errors zalando-containerdays-2019",
        "datadog-10-ways-shoot-foot",
    ),
    _c("kubelet qps", "zalando-kubelet-qps-build-errors", "zalando-containerdays-2019"),
    _c("skipper oom", ZALANDO_SKIPPER, ZALANDO_APISERVER_OOM),
    _c(
        "502 bad gateway",
        f"{ZALANDO_SKIPPER} ravelin-ingress-endpoint-502",
        "skyscanner-templating-line airmap-platform-outage",
    ),
    _c("sigterm 502", "ravelin-ingress-endpoint-502"),
    _c("prestop sleep", "ravelin-ingress-endpoint-502"),
    _c("linkerd", MONZO),
    _c("NullPointerException", MONZO),
    _c("istio crashloop", "exponea-istio-integration"),
    _c("sidecar injection", "exponea-istio-integration"),
    _c("admission webhook", "jetstack-admission-webhook-outage"),
    _c(
        "gke master upgrade",
        "jetstack-admission-webhook-outage",
        "loveholidays-gke-upgrade-shipwreck",
    ),
    _c("etcd liveness probe", "nrelabs-outage"),
    _c("6443 refused", "nrelabs-outage"),
    _c("dex authrequest", "fullstaq-dex-etcd"),
    _c("priorityclass", "grafana-pod-priorities-outage", "datadog-10-ways-shoot-foot"),
    _c("evicted pods cascade", "grafana-pod-priorities-outage", "nordstrom-101-ways-crash"),
    _c("ip exhaustion", IP_EXHAUSTION),
    _c("subnet exhausted", IP_EXHAUSTION),
    _c("pods pending ip", "loveholidays-gke-ip-exhaustion", "neon-delayed-compute-starts"),
    _c("vpc cni snat", "mindtickle-eks-missing-packet prezi-kubernetes-crime-story"),
    _c("tcp retransmissions", "mindtickle-eks-missing-packet"),
    _c("externaltrafficpolicy local", "devops-hof-lb-drain"),
    _c("drain node ingress", "devops-hof-lb-drain", "loveholidays-gke-upgrade-shipwreck"),
    _c("node pool upgrade", "loveholidays-gke-upgrade-shipwreck", "devops-hof-lb-drain"),
    _c("calico route reflector", "reddit-pi-day-outage"),
    _c("systemd-networkd", "datadog-multi-region-outage-2023"),
    _c("kube-proxy version mismatch", "circleci-delays-starting-jobs"),
    _c("fluent-bit logs missing", "prometheuskube-fluent-bit-to-fluentd"),
    _c("hot podding haproxy", "skyscanner-templating-line"),
    _c("deleted clusters", "spotify-deleted-clusters", "skyscanner-couple-of-characters"),
    _c("kubespray", "veracode-outages"),
    _c("telemetry service outage", "openai-telemetry-outage"),
    _c("kernel panic", "moonlight-same-failing-host"),
    _c("anti-affinity", "moonlight-same-failing-host"),
    _c("systemoom", "bluematador-node-oom", "nunl-cluster-failure-learnings"),
    _c("ebs burst balance", "bluematador-node-oom"),
    _c("pleg", "airmap-platform-outage xing-bad-and-ugly"),
    _c("kubelet stopped posting", "turnitin-elb-outage", "jetstack-admission-webhook-outage"),
    _c(
        "elb ip changed",
        "turnitin-elb-outage",
        "salemove-us-system-issue nordstrom-101-ways-crash",
    ),
    _c("spot nodes join", "freenow-workers-unable-to-join"),
    _c("black friday", "algolia-black-friday-dashboard"),
    _c("kafka", "target-cascading-failure"),
    _c("postgres replication", "gravitational-postgresql"),
    _c("open files limit", "thredup-stack-to-k8s"),
    _c("arp cache", "tinder-move-to-kubernetes"),
    _c(
        "cronjob apiserver oom",
        "zalando-million-ways-crash zalando-kubecon-2019",
        ZALANDO_APISERVER_OOM,
    ),
    _c("etcdctl del", "zalando-million-ways-crash"),
    _c("nginx configmap", "pusher-config-changed"),
    _c("jupyter notebooks", "civis-breaking-kubernetes"),
    _c("search reindex job", "universe-search-reporting-outage"),
    _c("tiller down", "saltside-first-outage"),
    _c("BackendConnectionErrors", "saltside-failed-migration"),
    _c("public registry", "google-how-not-to-do-kubernetes", "google-stories-from-playbook"),
    _c("p95 latency", "airbnb-p95s-worse", "adevinta-latency-10x-kiam-dns"),
    _c("x509", "oath-101-ways-break-recover"),
    _c("dnsmasq", "google-stories-from-playbook zalando-dns-outage-2019"),
    _c("coredns ipvs", "datadog-10-ways-shoot-foot"),
    _c("noisy neighbours", "airbnb-p95s-worse"),
    # Chinese, as typed: with or without spaces, mixed with English names.
    _c("挖矿", "jwplayer-cryptominer", kind="chinese"),
    _c("CPU 限制", CPU_LIMITS, "airbnb-p95s-worse civis-breaking-kubernetes", kind="chinese"),
    _c("CPU节流", CPU_LIMITS, kind="chinese"),
    _c("coredns 内存溢出", "zalando-dns-outage-2019", kind="chinese"),
    _c("证书过期", "oath-101-ways-break-recover", kind="chinese"),
    _c(
        "集群升级",
        "loveholidays-gke-upgrade-shipwreck reddit-pi-day-outage circleci-delays-starting-jobs",
        "jetstack-admission-webhook-outage datadog-multi-region-outage-2023",
        kind="chinese",
    ),
    _c("Pod 驱逐", "grafana-pod-priorities-outage", "nordstrom-101-ways-crash", kind="chinese"),
    _c("连接跟踪", "loveholidays-conntrack-networking", CONNTRACK_OTHERS, kind="chinese"),
    _c(
        "DNS 超时",
        "mindtickle-intermittent-delays",
        "zalando-dns-outage-2019 tinder-move-to-kubernetes",
        kind="chinese",
    ),
    _c("IP地址耗尽", IP_EXHAUSTION, kind="chinese"),
    _c("删除集群", "spotify-deleted-clusters", "skyscanner-couple-of-characters", kind="chinese"),
    _c("准入 webhook", "jetstack-admission-webhook-outage", kind="chinese"),
    _c("日志丢失", "prometheuskube-fluent-bit-to-fluentd", kind="chinese"),
    _c(
        "升级后网络中断",
        "reddit-pi-day-outage circleci-delays-starting-jobs datadog-multi-region-outage-2023",
        kind="chinese",
    ),
    # Misspelt, as typed in a hurry.
    _c("cryptomner", "jwplayer-cryptominer", kind="typo"),
    _c("conntrak", "loveholidays-conntrack-networking", CONNTRACK_OTHERS, kind="typo"),
    _c("linkred", MONZO, kind="typo"),
    _c("cpu throtling", CPU_LIMITS, kind="typo"),
    _c("admision webhook", "jetstack-admission-webhook-outage", kind="typo"),
    _c("kubspray", "veracode-outages", kind="typo"),
    _c("preemtion", "grafana-pod-priorities-outage", kind="typo"),
    _c("callico upgrade", "reddit-pi-day-outage", kind="typo"),
    _c("kernal panic", "moonlight-same-failing-host", kind="typo"),
    _c("coredns oomkiled", "zalando-dns-outage-2019", kind="typo"),
    _c("ip exhuastion", IP_EXHAUSTION, kind="typo"),
    _c("elasticserch bulk", "prometheuskube-fluent-bit-to-fluentd", kind="typo"),
    _c("istio crashloopbakoff", "exponea-istio-integration", kind="typo"),
]  # fmt: skip


def gains(case: Case) -> dict[str, int]:
    out = dict.fromkeys(case.also, 1)
    out.update(dict.fromkeys(case.must, 2))
    return out


def hit_at_3(case: Case, ranked: list[str]) -> bool:
    return bool(set(ranked[:3]) & set(case.must))


def ndcg_at_5(case: Case, ranked: list[str]) -> float:
    """Graded nDCG@5 with gains 2^g - 1 and log2 discounts."""
    g = gains(case)

    def dcg(values: list[int]) -> float:
        return sum((2**v - 1) / math.log2(i + 2) for i, v in enumerate(values[:5]))

    ideal = dcg(sorted(g.values(), reverse=True))
    return dcg([g.get(slug, 0) for slug in ranked[:5]]) / ideal if ideal else 0.0
