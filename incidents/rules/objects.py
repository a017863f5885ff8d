"""Kubernetes object helpers for rules: pod specs of every workload kind, containers, selectors.

Input is untrusted: any field may be missing or have the wrong type. Helpers return empty
values instead of raising, so a rule reads `containers(obj)` without guarding every level.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# kind -> path from the object root to its pod spec
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_KINDS = tuple(POD_SPEC_PATHS)
# Workloads that keep a number of long-running replicas (what Services, PDBs and spreads cover).
SERVING_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")


@dataclass(slots=True, eq=False)
class K8sObject:
    """One object of the input. `data` is the mapping; `document` the index of its document."""

    data: dict
    document: int
    prefix: str = ""  # path inside the document, e.g. `items[3]` for a `kind: List` item
    source: str | None = None
    origin: Any = field(default=None, repr=False)  # the parsing.Document, for line lookup
    position: int = 0  # order of the object in the whole run
    input_index: int = 0  # which input (file) of the run it came from
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def api_version(self) -> str:
        value = self.data.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def metadata(self) -> dict:
        return as_dict(self.data.get("metadata"))

    @property
    def name(self) -> str:
        return as_str(self.metadata.get("name")) or as_str(self.metadata.get("generateName"))

    @property
    def namespace(self) -> str:
        return as_str(self.metadata.get("namespace"))

    @property
    def labels(self) -> dict:
        return as_dict(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict:
        return as_dict(self.metadata.get("annotations"))

    @property
    def spec(self) -> dict:
        return as_dict(self.data.get("spec"))

    def ref(self) -> dict[str, str]:
        """The object's identity; one dict per object, shared by all its findings (treat it as
        read-only): 10,000 objects with 12 findings each made 120,000 copies."""
        ref = self._cache.get("ref")
        if ref is None:
            ref = self._cache["ref"] = {
                "apiVersion": self.api_version,
                "kind": self.kind,
                "namespace": self.namespace,
                "name": self.name,
            }
        return ref

    def display(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name or '<unnamed>'}"


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def json_pointer(path: str) -> str:
    """`spec.containers[0].image` as a JSON Pointer: `/spec/containers/0/image`."""
    parts = []
    for name, index in _TOKEN.findall(path):
        part = index or name
        parts.append(part.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def set_field(path: str, value: Any, exists: bool) -> tuple[dict[str, Any], ...]:
    """A one-operation JSON Patch setting the field at `path` (dotted) to `value`."""
    return ({"op": "replace" if exists else "add", "path": json_pointer(path), "value": value},)


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, int | float) else ""


def as_int(value: Any) -> int | None:
    """An integer field (`replicas: 3`); strings of digits too. Booleans are not integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def dig(data: Any, *keys: str) -> Any:
    """`data[k1][k2]...` or None when a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def pod_spec(obj: K8sObject) -> tuple[dict, str]:
    """The pod spec of a workload and its path (`spec.template.spec`); ({}, "") otherwise."""
    cached = obj._cache.get("pod_spec")
    if cached is None:
        keys = POD_SPEC_PATHS.get(obj.kind)
        spec = dig(obj.data, *keys) if keys else None
        cached = (spec, ".".join(keys)) if isinstance(spec, dict) else ({}, "")
        obj._cache["pod_spec"] = cached
    return cached


def pod_template_labels(obj: K8sObject) -> dict:
    """Labels the workload's pods carry (the Pod's own labels for a bare Pod)."""
    if obj.kind == "Pod":
        return obj.labels
    keys = POD_SPEC_PATHS.get(obj.kind)
    if not keys:
        return {}
    return as_dict(dig(obj.data, *keys[:-1], "metadata", "labels"))


def containers(obj: K8sObject, *, init: bool = False) -> Iterator[tuple[dict, str]]:
    """(container, path) for each container (and init container when `init`)."""
    spec, prefix = pod_spec(obj)
    groups = ("containers", "initContainers") if init else ("containers",)
    for group in groups:
        for i, container in enumerate(as_list(spec.get(group))):
            if isinstance(container, dict):
                yield container, f"{prefix}.{group}[{i}]"


def replicas(obj: K8sObject) -> int | None:
    """Declared replicas of a serving workload (1 when omitted, as the API defaults it)."""
    if obj.kind not in SERVING_KINDS:
        return None
    value = obj.spec.get("replicas", 1)
    return as_int(value)


_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity (`500m`, `1.5`, `256Mi`) as a float, or None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except (ValueError, OverflowError):
        return None


def probe_handler(probe: Any) -> tuple[str, Any] | None:
    """The handler of a probe: ("httpGet", {...}), ("exec", {...}), ... or None."""
    if not isinstance(probe, dict):
        return None
    for name in ("httpGet", "tcpSocket", "exec", "grpc"):
        if name in probe:
            return name, probe[name]
    return None


def image_parts(image: Any) -> tuple[str, str, str]:
    """(repository, tag, digest) of an image reference; missing parts are ""."""
    if not isinstance(image, str):
        return "", "", ""
    image = image.strip()
    digest = ""
    if "@" in image:
        image, _, digest = image.partition("@")
    tag = ""
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.rsplit(":", 1)[1]
        image = image[: len(image) - len(tag) - 1]
    return image, tag, digest


_PLACEHOLDER = re.compile(r"[{}$<>]")  # `{IMAGE}`, `${TAG}`, `$(REGISTRY)`, `<image_url>`


def is_placeholder_image(image: Any) -> bool:
    """An image reference a script or README fills in before applying, not an image yet."""
    return isinstance(image, str) and _PLACEHOLDER.search(image) is not None


def job_spec(obj: K8sObject) -> tuple[dict, str]:
    """The Job spec of a Job (`spec`) or CronJob (`spec.jobTemplate.spec`)."""
    if obj.kind == "Job":
        return obj.spec, "spec"
    if obj.kind == "CronJob":
        return as_dict(dig(obj.data, "spec", "jobTemplate", "spec")), "spec.jobTemplate.spec"
    return {}, ""


_SLEEP = re.compile(r"\bsleep\s+(\d+(?:\.\d+)?)")


def prestop_seconds(container: dict) -> float | None:
    """Seconds a container's preStop hook waits (`sleep N` or the `sleep` action), or None."""
    pre_stop = dig(container, "lifecycle", "preStop")
    if not isinstance(pre_stop, dict):
        return None
    seconds = dig(pre_stop, "sleep", "seconds")
    if as_int(seconds) is not None:
        return float(as_int(seconds))
    command = dig(pre_stop, "exec", "command")
    if isinstance(command, list):
        text = " ".join(as_str(part) for part in command)
        match = _SLEEP.search(text)
        if match:
            return float(match.group(1))
    return 0.0  # an httpGet or other hook: it exists, its delay is unknown


def ingress_backends(obj: K8sObject) -> list[tuple[str, str]]:
    """(Service name, path) of every backend of an Ingress (networking.k8s.io v1 and v1beta1)."""
    spec = obj.spec
    found = []

    def add(backend: Any, path: str) -> None:
        backend = as_dict(backend)
        name = as_str(dig(backend, "service", "name")) or as_str(backend.get("serviceName"))
        if name:
            found.append((name, path))

    for key in ("defaultBackend", "backend"):
        if key in spec:
            add(spec[key], f"spec.{key}")
    for i, rule in enumerate(as_list(spec.get("rules"))):
        for j, item in enumerate(as_list(dig(rule, "http", "paths"))):
            add(as_dict(item).get("backend"), f"spec.rules[{i}].http.paths[{j}].backend")
    return found
