"""What an admission webhook intercepts: its `rules`, `namespaceSelector` and `objectSelector`.

A webhook that fails closed is only a cluster-wide risk when it can block what the cluster
runs on. These helpers tell which of those resources a webhook's rules intercept, and whether
its selectors keep kube-system or unlabelled objects out.
"""

from __future__ import annotations

from incidents.rules.objects import as_dict, as_list, as_str

NAME_KEY = "kubernetes.io/metadata.name"


def excludes_kube_system(selector) -> bool:
    """True when a namespaceSelector opts namespaces in, or explicitly leaves kube-system out."""
    selector = as_dict(selector)
    if as_dict(selector.get("matchLabels")):
        return True  # opt-in: only labelled namespaces
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        operator = expr.get("operator")
        values = {as_str(v) for v in as_list(expr.get("values"))}
        if operator in ("In", "Exists", "DoesNotExist"):
            return True  # opt-in, or an opt-out label kube-system is expected to carry
        if operator == "NotIn" and (expr.get("key") != NAME_KEY or "kube-system" in values):
            return True  # names kube-system, or an opt-out label it may carry
    return False


# What the cluster keeps running on outside kube-system: nodes (cluster-scoped, no namespace
# selector applies) and leases (node heartbeats live in kube-node-lease, which opt-out
# selectors naming kube-system do not leave out).
CLUSTER_CRITICAL = {("", "nodes"), ("coordination.k8s.io", "leases")}
# what kube-system runs on: blocked there, system components cannot start or renew
SYSTEM_RESOURCES = {
    ("", "pods"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "endpoints"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("discovery.k8s.io", "endpointslices"),
    *CLUSTER_CRITICAL,
}


def intercepted(hook: dict) -> set[tuple[str, str]]:
    """(group, resource) pairs of SYSTEM_RESOURCES the webhook's rules intercept."""
    found = set()
    for rule in as_list(hook.get("rules")):
        rule = as_dict(rule)
        if not [op for op in as_list(rule.get("operations")) if op != "CONNECT"]:
            continue
        groups = {as_str(g) for g in as_list(rule.get("apiGroups"))}
        resources = {as_str(r).split("/")[0] for r in as_list(rule.get("resources"))}
        for group, resource in SYSTEM_RESOURCES:
            if (group in groups or "*" in groups) and (resource in resources or "*" in resources):
                found.add((group, resource))
    return found


def opt_in(selector) -> bool:
    """A namespace or object selector that only matches what carries a label (opt-in)."""
    selector = as_dict(selector)
    if as_dict(selector.get("matchLabels")):
        return True
    return any(
        as_dict(e).get("operator") in ("In", "Exists")
        for e in as_list(selector.get("matchExpressions"))
    )
