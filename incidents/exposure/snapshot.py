"""Read a cluster snapshot: what a read-only user collects with `deploy/snapshot.sh`.

The script writes a few JSON files (`kubectl version -o json`, `kubectl get --raw /version`,
`kubectl get nodes -o json` and one `kubectl get ... -A -o json` list). We do not rely on the
file names: each document is recognised by its shape, so a user can pass any subset, rename
files or concatenate them. Secrets are never part of the script's list; if a user adds some
anyway they are dropped before anything reads them, and the report says how many.

From the objects we derive the facts exposure conditions ask about: the server version, each
node's kubelet, kernel, OS image, container runtime and cloud platform, and the versions of the
cluster components recognised by their container images (CoreDNS, kube-proxy, the CNI...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from incidents.exposure.versions import Version, parse_version
from incidents.rules.objects import (
    K8sObject,
    as_dict,
    as_list,
    as_str,
    containers,
    image_parts,
)
from incidents.rules.parsing import MIB, InputError, InputRefused, Limits, load_documents

# A `kubectl get ... -A -o json` of a large cluster is big; still refuse what cannot be a
# snapshot instead of parsing without bound.
SNAPSHOT_LIMITS = Limits(max_bytes=64 * MIB, max_documents=1_000, max_nodes=20_000_000)

# component -> how its container image's repository ends (last path segments).
COMPONENT_IMAGES: dict[str, tuple[str, ...]] = {
    "coredns": ("coredns",),
    "kube-proxy": ("kube-proxy",),
    "aws-vpc-cni": ("amazon-k8s-cni",),
    "calico": ("calico/node", "calico-node"),
    "cilium": ("cilium/cilium", "cilium"),
    "weave-net": ("weave-kube",),
    "flannel": ("flannel",),
    # linkerd 1.x (the JVM proxy of 2016-2018); linkerd2's proxy is another component.
    "linkerd1": ("buoyantio/linkerd",),
    "istio": ("istio/proxyv2", "proxyv2", "istio/pilot"),
    "nodelocaldns": ("k8s-dns-node-cache", "dns/k8s-dns-node-cache"),
    "ingress-nginx": ("ingress-nginx/controller", "nginx-ingress-controller"),
    "cluster-autoscaler": ("cluster-autoscaler", "autoscaling/cluster-autoscaler"),
    "kiam": ("kiam",),
    "kube2iam": ("kube2iam",),
}
NODE_COMPONENTS = ("kubelet", "kernel", "container-runtime", "node-os")
COMPONENTS = ("kubernetes", *NODE_COMPONENTS, *COMPONENT_IMAGES)
PLATFORMS = ("eks", "gke", "aks", "aws", "gcp", "azure", "on-premise")


@dataclass(frozen=True, slots=True)
class Sighting:
    """One place a component shows up: where (`where`) and at which version (raw text)."""

    component: str
    where: str
    version_text: str
    version: Version | None
    obj: dict | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class Snapshot:
    server_version: Version | None = None
    objects: list[dict] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    secrets_dropped: int = 0
    _sightings: dict[str, list[Sighting]] | None = None

    @property
    def nodes(self) -> list[dict]:
        return [o for o in self.objects if o.get("kind") == "Node"]

    def kinds(self) -> set[str]:
        return {o["kind"] for o in self.objects}

    def sightings(self, component: str) -> list[Sighting]:
        if self._sightings is None:
            self._sightings = _collect(self)
        return self._sightings.get(component, [])

    def platforms(self) -> dict[str, list[str]]:
        """Platform -> the nodes that say so (provider ID, version suffix, managed labels)."""
        found: dict[str, list[str]] = {}
        for node in self.nodes:
            name = _name(node)
            for platform in node_platforms(node):
                found.setdefault(platform, []).append(name)
        return found

    def as_list_document(self) -> str:
        """The objects as one `kind: List` JSON text, for the manifest rules."""
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": self.objects})


def node_platforms(node: dict) -> set[str]:
    """What a Node object tells about where it runs: the cloud and whether it is managed."""
    spec = as_dict(node.get("spec"))
    labels = as_dict(as_dict(node.get("metadata")).get("labels"))
    info = as_dict(as_dict(node.get("status")).get("nodeInfo"))
    provider = as_str(spec.get("providerID"))
    kubelet = as_str(info.get("kubeletVersion"))
    found = set()
    if provider.startswith("aws://"):
        found.add("aws")
    elif provider.startswith("gce://"):
        found.add("gcp")
    elif provider.startswith("azure://"):
        found.add("azure")
    if "-eks-" in kubelet or any(k.startswith("eks.amazonaws.com/") for k in labels):
        found.add("eks")
    if "-gke." in kubelet or any(k.startswith("cloud.google.com/gke") for k in labels):
        found.add("gke")
    if any(k.startswith("kubernetes.azure.com/") for k in labels):
        found.add("aks")
    if not found and (provider == "" or provider.startswith(("kind://", "k3s://"))):
        found.add("on-premise")
    return found


def _name(obj: dict) -> str:
    meta = as_dict(obj.get("metadata"))
    name = as_str(meta.get("name")) or "<unnamed>"
    namespace = as_str(meta.get("namespace"))
    return f"{namespace}/{name}" if namespace else name


def _collect(snapshot: Snapshot) -> dict[str, list[Sighting]]:
    found: dict[str, list[Sighting]] = {}

    def add(component: str, where: str, text: str, obj: dict | None = None) -> None:
        found.setdefault(component, []).append(
            Sighting(component, where, text, parse_version(text), obj)
        )

    if snapshot.server_version:
        add("kubernetes", "API server", snapshot.server_version.raw)
    for node in snapshot.nodes:
        info = as_dict(as_dict(node.get("status")).get("nodeInfo"))
        where = f"node {_name(node)}"
        for component, key in (
            ("kubelet", "kubeletVersion"),
            ("kernel", "kernelVersion"),
            ("container-runtime", "containerRuntimeVersion"),
            ("node-os", "osImage"),
        ):
            text = as_str(info.get(key))
            if text:
                add(component, where, text, node)
    for obj in snapshot.objects:
        kind = obj.get("kind")
        if kind == "Pod" and as_list(as_dict(obj.get("metadata")).get("ownerReferences")):
            continue  # its controller is in the snapshot too, or its image says the same
        wrapped = K8sObject(obj, 0)
        for container, _path in containers(wrapped):
            image = as_str(container.get("image"))
            if not image:
                continue
            repo, tag, _digest = image_parts(image)
            component = _component_of(repo)
            if component:
                add(component, f"{kind} {_name(obj)} ({image})", tag or "", obj)
    return found


def _component_of(repo: str) -> str | None:
    repo = repo.lower()
    for component, endings in COMPONENT_IMAGES.items():
        for ending in endings:
            if repo == ending or repo.endswith("/" + ending):
                return component
    return None


def load_snapshot(
    files: Iterable[tuple[str, str | bytes]], limits: Limits = SNAPSHOT_LIMITS
) -> Snapshot:
    """Read the snapshot files; problems become `errors`, never exceptions."""
    snapshot = Snapshot()
    for name, content in files:
        snapshot.files.append(name)
        try:
            loaded = load_documents(content, limits)
        except InputRefused as exc:
            snapshot.errors.append(InputError(None, None, str(exc), exc.code, name))
            continue
        for error in loaded.errors:
            snapshot.errors.append(
                InputError(error.document, error.line, error.message, error.code, name)
            )
        for document in loaded.documents:
            _take(snapshot, document.data)
    return snapshot


def _take(snapshot: Snapshot, data: Any, depth: int = 0) -> None:
    if isinstance(data, list) and depth == 0:
        for item in data:  # `jq -s . snapshot/*.json`: the files as one array
            _take(snapshot, item, 1)
        return
    if not isinstance(data, dict):
        return
    server = data.get("serverVersion")
    if isinstance(server, dict) and parse_version(server.get("gitVersion")):
        snapshot.server_version = parse_version(server.get("gitVersion"))
        return
    if "gitVersion" in data and "kind" not in data:
        version = parse_version(data.get("gitVersion"))
        if version and snapshot.server_version is None:
            snapshot.server_version = version
        return
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        return
    items = data.get("items")
    if kind.endswith("List") and isinstance(items, list):
        for item in items:
            _take_object(snapshot, item)
    else:
        _take_object(snapshot, data)


def _take_object(snapshot: Snapshot, obj: Any) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str) or not obj["kind"]:
        return
    if obj["kind"] == "Secret":
        snapshot.secrets_dropped += 1
        return
    snapshot.objects.append(obj)
