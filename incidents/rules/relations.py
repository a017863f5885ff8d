"""How objects of an input relate: selectors against the pods a workload will really run,
objects an operator makes at runtime, and the container a Service port lands on.

Three facts the manifests alone do not show, each a class of false positive on real input:
- controllers add labels to the pods they create (`pod-template-hash`, `controller-revision-hash`,
  `statefulset.kubernetes.io/pod-name`, `batch.kubernetes.io/job-name`...): a Service selecting
  one StatefulSet pod by name does select something;
- operators create workloads and Services from custom resources (a `Prometheus` object becomes
  a StatefulSet `prometheus-<name>` and a Service `prometheus-operated`): the input holds the
  custom resource, not the pods;
- a Service port goes to the one container exposing its `targetPort` (a number or a port name),
  not to every container of the pod: a sidecar that no Service port reaches serves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from incidents.rules.objects import K8sObject, as_dict, as_int, as_list, as_str, containers

# label key -> workload kinds whose controller adds it to every pod it creates
RUNTIME_LABELS: dict[str, tuple[str, ...]] = {
    "pod-template-hash": ("Deployment", "ReplicaSet"),
    "controller-revision-hash": ("StatefulSet", "DaemonSet"),
    "pod-template-generation": ("DaemonSet",),
    "statefulset.kubernetes.io/pod-name": ("StatefulSet",),
    "apps.kubernetes.io/pod-index": ("StatefulSet",),
    "batch.kubernetes.io/job-name": ("Job", "CronJob"),
    "job-name": ("Job", "CronJob"),
    "batch.kubernetes.io/controller-uid": ("Job", "CronJob"),
    "controller-uid": ("Job", "CronJob"),
    "batch.kubernetes.io/job-completion-index": ("Job", "CronJob"),
}

# API groups of built-in kinds: anything else is a custom resource an operator may act on
BUILTIN_GROUPS = ("", "apps", "batch", "policy", "autoscaling", "extensions")
_OWNER_NAMES = {
    "cluster",
    "cluster-name",
    "kind",
    "owner",
    "owner-name",
    "owned-by",
    "created-by",
    "managed-by",
    "instance-of",
}
_OPERATOR_KEYS = {"prometheus", "alertmanager", "thanos-ruler", "operator.prometheus.io/name"}
_HELM_MANAGERS = {"helm", "tiller", "kustomize", "kubectl", "argocd", "flux", "skaffold"}


def runtime_label_kinds(key: Any) -> tuple[str, ...]:
    return RUNTIME_LABELS.get(key, ()) if isinstance(key, str) else ()


def _runtime_value_matches(workload: K8sObject, key: str, value: str) -> bool:
    """Whether a pod of `workload` can carry `key=value` for a label its controller adds."""
    if key == "statefulset.kubernetes.io/pod-name":
        return re.fullmatch(re.escape(workload.name) + r"-\d+", value) is not None
    if key in ("job-name", "batch.kubernetes.io/job-name"):
        if workload.kind == "Job":
            return value == workload.name
        return value.startswith(f"{workload.name}-")
    if key == "apps.kubernetes.io/pod-index":
        return value.isdigit()
    return True  # hashes and uids: any value can be what the controller writes


def workload_selected(selector: Any, workload: K8sObject, labels: Mapping) -> bool:
    """A selector (a Service's map, or matchLabels/matchExpressions) against the pods that
    `workload` runs: its template `labels` plus the labels its controller adds at runtime.

    Empty or missing selectors match nothing (for these checks an empty selector is a mistake).
    """
    if not isinstance(selector, dict) or not selector:
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        match_labels = as_dict(selector.get("matchLabels"))
        expressions = as_list(selector.get("matchExpressions"))
        if not match_labels and not expressions:
            return False
    else:
        match_labels, expressions = selector, []
    for key, value in match_labels.items():
        if not _requirement(workload, labels, key, "In", {as_str(value)}):
            return False
    for expr in expressions:
        expr = as_dict(expr)
        values = {as_str(v) for v in as_list(expr.get("values"))}
        if not _requirement(workload, labels, expr.get("key"), expr.get("operator"), values):
            return False
    return True


def _requirement(workload: K8sObject, labels: Mapping, key: Any, operator: Any, values) -> bool:
    if workload.kind in runtime_label_kinds(key) and key not in labels:
        if operator == "In":
            return any(_runtime_value_matches(workload, key, v) for v in values)
        return operator in ("Exists", "NotIn")
    present = isinstance(key, str | int) and key in labels
    value = as_str(labels.get(key)) if present else None
    if operator == "In":
        return present and value in values
    if operator == "NotIn":
        return not present or value not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    return False


def is_custom_resource(obj: K8sObject) -> bool:
    group = obj.api_version.rpartition("/")[0] if "/" in obj.api_version else ""
    return group not in BUILTIN_GROUPS and not group.endswith(".k8s.io")


def owner_like_selector(selector: Any) -> str | None:
    """The first label of a selector that names an owning operator or cluster, else None.

    Operators label the pods they make with the custom resource they come from
    (`prometheus: k8s`, `strimzi.io/cluster: my-cluster`, `app.kubernetes.io/managed-by:
    prometheus-operator`); such pods are not in the input, only their custom resource.
    """
    selector = as_dict(selector)
    if "matchLabels" in selector or "matchExpressions" in selector:
        keys = dict(as_dict(selector.get("matchLabels")))
        for expr in as_list(selector.get("matchExpressions")):
            keys.setdefault(as_str(as_dict(expr).get("key")), "")
    else:
        keys = selector
    for key, value in keys.items():
        key = as_str(key)
        prefix, _, name = key.rpartition("/")
        if key in _OPERATOR_KEYS or "operator" in prefix:
            return key
        if key in ("app.kubernetes.io/managed-by", "app.kubernetes.io/created-by"):
            if as_str(value).lower() not in _HELM_MANAGERS:
                return key
        elif prefix and not prefix.endswith("kubernetes.io") and name in _OWNER_NAMES:
            return key
    return None


def operator_made(selector: Any, custom_resources: list[K8sObject]) -> str | None:
    """Why pods or objects matching `selector` may be made by an operator, else None.

    Evidence is an owner-like label in the selector, or a selector value naming a custom
    resource of the namespace (its name, or its kind as operators label pods:
    `app.kubernetes.io/name: prometheus` next to a `Prometheus` object).
    """
    label = owner_like_selector(selector)
    if label:
        return f"its selector label {label} is set by an operator"
    selector = as_dict(selector)
    if "matchLabels" in selector:
        selector = as_dict(selector.get("matchLabels"))
    values = {as_str(v).lower() for v in selector.values()}
    for cr in custom_resources:
        if cr.name.lower() in values or cr.kind.lower() in values:
            return f"{cr.kind} {cr.name} of the input is an operator's custom resource"
    return None


def made_by_operator(name: str, custom_resources: list[K8sObject]) -> K8sObject | None:
    """A custom resource from which an operator makes an object called `name`
    (`prometheus-operated`, `alertmanager-main`, `<resource>-<suffix>`), else None."""
    for cr in custom_resources:
        kind, cr_name = cr.kind.lower(), cr.name.lower()
        lowered = name.lower()
        if lowered == f"{kind}-operated" or (cr_name and lowered.startswith(f"{cr_name}-")):
            return cr
        if cr_name and lowered.startswith(f"{kind}-{cr_name}"):
            return cr
    return None


# --- Service ports -> containers ---------------------------------------------------------------


def _declared(container: dict) -> list[dict]:
    return [as_dict(p) for p in as_list(container.get("ports"))]


def containers_behind(service: K8sObject, workload: K8sObject) -> list[tuple[dict, str]]:
    """(container, path) of the workload's containers that a port of `service` sends to.

    A named `targetPort` goes to the container declaring a port of that name; a number (or no
    `targetPort`: the `port`) to the container declaring that `containerPort`, else, as ports
    need not be declared, to the only container, or the containers that declare no port at all.
    A Service without ports (headless, for DNS) is served by the containers that declare ports,
    else the first.
    """
    all_containers = list(containers(workload))
    ports = [as_dict(p) for p in as_list(service.spec.get("ports"))]
    if not ports:
        declaring = [(c, p) for c, p in all_containers if _declared(c)]
        return declaring or all_containers[:1]
    chosen: dict[str, tuple[dict, str]] = {}
    for port in ports:
        target = port.get("targetPort", port.get("port"))
        number = as_int(target)
        if number is None:
            name = as_str(target)
            found = [
                (c, p)
                for c, p in all_containers
                if any(as_str(d.get("name")) == name for d in _declared(c))
            ]
        else:
            found = [
                (c, p)
                for c, p in all_containers
                if any(as_int(d.get("containerPort")) == number for d in _declared(c))
            ]
            if not found:
                silent = [(c, p) for c, p in all_containers if not _declared(c)]
                found = all_containers if len(all_containers) == 1 else silent
        for container, path in found:
            chosen.setdefault(path, (container, path))
    return [item for item in all_containers if item[1] in chosen]
