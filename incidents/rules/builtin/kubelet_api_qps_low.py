"""KB037: a kubelet configuration that leaves the kubelet's API rate limit low."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_int

MIN_QPS = 20


def check(obj, ctx):
    if not obj.api_version.startswith("kubelet.config.k8s.io/"):
        return
    value = obj.data.get("kubeAPIQPS")
    if value is None:
        yield Hit(
            "kubeAPIQPS",
            "kubeAPIQPS is not set: kubelets before Kubernetes 1.27 then send at most 5 "
            "requests per second to the API server, so pod status (and pod IPs) lags minutes "
            "behind on a node with fast pod churn; set it explicitly",
        )
        return
    qps = as_int(value)
    if qps is not None and 0 < qps < MIN_QPS:
        yield Hit(
            "kubeAPIQPS",
            f"kubeAPIQPS {qps} lets the kubelet send only {qps} requests per second to the API "
            "server: on a node with fast pod churn, pod status (and pod IPs) lags minutes behind",
        )


RULE = Rule(
    id="KB037",
    slug="kubelet-api-qps-low",
    title="Kubelet API rate limit low or left to an old default",
    severity=Severity.WARNING,
    kinds=("KubeletConfiguration",),
    checks=f"`KubeletConfiguration` files (`kubelet.config.k8s.io`) with `kubeAPIQPS` below "
    f"{MIN_QPS}, or not set (the default was 5 before Kubernetes 1.27, 50 since).",
    why="The kubelet reports every pod's status, including its IP, through a client-side rate "
    "limiter. At 5 requests per second a node that creates and deletes many pods (CI builders, "
    "batch jobs) falls minutes behind: pods run, but the API server, and everything that looks "
    "pods up by IP (kube2iam and other metadata proxies, endpoints), does not know them yet.",
    fix="Set `kubeAPIQPS` (and `kubeAPIBurst`, about twice as much) explicitly in the kubelet "
    "configuration, sized for the pod churn of the busiest node; 50/100 is today's default.",
    fix_example="""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
kubeAPIQPS: 50
kubeAPIBurst: 100
""",
    references=(
        "https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/",
        "https://github.com/zalando-incubator/kubernetes-on-aws/blob/dev/docs/postmortems/jun-2019-kubelet-qps.md",
    ),
    check=check,
)
