"""KB038: host ports that leave new pods Pending on a rollout or scale-up."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import SERVING_KINDS, as_dict, dig, json_pointer, pod_spec
from incidents.rules.scheduling import host_ports, pinned_values, scaled


def no_surge(strategy_path: str, strategy: dict, present: bool) -> tuple[dict, ...]:
    """Stop one old pod before starting its replacement, which frees the port first."""
    rolling = strategy.get("rollingUpdate")
    if isinstance(rolling, dict):
        return tuple(
            {
                "op": "replace" if key in rolling else "add",
                "path": json_pointer(f"{strategy_path}.rollingUpdate.{key}"),
                "value": value,
            }
            for key, value in (("maxSurge", 0), ("maxUnavailable", 1))
        )
    value = {"maxSurge": 0, "maxUnavailable": 1}
    if present:
        path = json_pointer(f"{strategy_path}.rollingUpdate")
        return ({"op": "add", "path": path, "value": value},)
    value = {"rollingUpdate": value}
    return ({"op": "add", "path": json_pointer(strategy_path), "value": value},)


def check(obj, ctx):
    ports = host_ports(obj)
    if not ports:
        return
    spec, prefix = pod_spec(obj)
    taken = f"host port {', '.join(ports)}"
    count = ctx.replicas(obj)
    nodes = pinned_values(spec, "kubernetes.io/hostname")
    if obj.kind in SERVING_KINDS and count and nodes and count > len(nodes):
        yield Hit(
            f"{prefix}.{'nodeName' if spec.get('nodeName') else 'nodeSelector'}",
            f"{count} replicas pinned to node(s) {', '.join(sorted(nodes))} with {taken}: "
            "two pods cannot hold the same port on one node, so "
            f"{count - len(nodes)} of them stay Pending",
        )
        return
    strategy_path = "spec.updateStrategy" if obj.kind == "DaemonSet" else "spec.strategy"
    present = isinstance(dig(obj.data, *strategy_path.split(".")), dict)
    strategy = as_dict(dig(obj.data, *strategy_path.split(".")))
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return
    rolling = strategy.get("rollingUpdate")
    patch = no_surge(strategy_path, strategy, present)
    if obj.kind == "DaemonSet":
        surge = scaled(as_dict(rolling).get("maxSurge", 0), 1, True)
        if surge:
            yield Hit(
                f"{strategy_path}.rollingUpdate.maxSurge",
                f"the DaemonSet surges (maxSurge {as_dict(rolling).get('maxSurge')}) with "
                f"{taken}: the new pod cannot start on a node whose old pod holds the port, "
                "and the old pod is only removed once the new one is ready, so the update stops",
                patch,
            )
    elif obj.kind == "Deployment" and count:
        surge = scaled(as_dict(rolling).get("maxSurge", "25%"), count, True)
        unavailable = scaled(as_dict(rolling).get("maxUnavailable", "25%"), count, False)
        if surge and unavailable == 0:
            yield Hit(
                strategy_path,
                f"a rolling update starts a new pod before it stops an old one (maxSurge "
                f"{surge}, maxUnavailable 0 for {count} replica(s)) and the pods take "
                f"{taken}: the new pod needs a node running none of the old ones; where "
                "every eligible node runs one, it stays Pending and the rollout hangs",
                patch,
            )


RULE = Rule(
    id="KB038",
    slug="hostport-rollout-pending",
    title="Host port that leaves new pods Pending on a rollout",
    severity=Severity.WARNING,
    kinds=(*SERVING_KINDS, "DaemonSet"),
    checks="Workloads whose pods take a host port (`ports[].hostPort`, or any declared "
    "container port with `hostNetwork: true`) where the scheduler cannot place the next pod: a "
    "Deployment whose rolling update surges without letting any pod go first (`maxUnavailable` "
    "0, the default for 1-3 replicas), a DaemonSet with `maxSurge`, or several replicas pinned "
    "to one node. Host ports on workloads that replace pods one at a time are not reported: "
    "whether there are more replicas than nodes is not in the manifest.",
    why="Each node has one of each host port and protocol, so two pods of the same template "
    "never share a node. A Deployment's rolling update adds a pod before it removes one: on a "
    "cluster (or node pool) where every eligible node already runs an old pod, the new one "
    "stays Pending with `didn't have free ports for the requested pod ports` and the rollout "
    "never finishes. Public reports show it: New Relic's chart left control-plane pods Pending "
    "for over an hour on upgrade, minikube's ingress controller could not be patched, and the "
    "Kubernetes enhancement that added DaemonSet surge calls host ports its most common "
    "conflict.",
    fix="Use a Service (ClusterIP, NodePort or LoadBalancer) instead of `hostPort` where you "
    "can; where the port must be on the node, replace pods one at a time (`maxSurge: 0`, "
    "`maxUnavailable: 1`) and run no more replicas than eligible nodes, or make it a "
    "DaemonSet without surge.",
    fix_example="""spec:
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 0        # stop an old pod first: it frees the host port
      maxUnavailable: 1
""",
    references=(
        "https://kubernetes.io/docs/concepts/configuration/overview/",
        "https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/#my-pod-stays-pending",
        "https://github.com/kubernetes/enhancements/blob/master/keps/sig-apps/1591-daemonset-surge/README.md",
        "https://github.com/newrelic/nri-kubernetes/issues/356",
        "https://github.com/kubernetes/minikube/pull/12904",
    ),
    reports=(
        "https://github.com/newrelic/nri-kubernetes/issues/356",
        "https://github.com/kubernetes/minikube/pull/12904",
    ),
    check=check,
)
