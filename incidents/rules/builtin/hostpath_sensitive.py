"""KB023: hostPath volumes of the node's root filesystem or runtime socket."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, as_dict, as_list, as_str, pod_spec

SENSITIVE = {
    "/": "the node's whole filesystem",
    "/etc": "the node's configuration",
    "/root": "root's home directory",
    "/proc": "the host's processes",
    "/var/lib/kubelet": "the kubelet's state and credentials",
    "/var/run/docker.sock": "the Docker socket (root on the node)",
    "/run/containerd/containerd.sock": "the containerd socket (root on the node)",
    "/var/run/crio/crio.sock": "the CRI-O socket (root on the node)",
}


def check(obj, ctx):
    spec, prefix = pod_spec(obj)
    for i, volume in enumerate(as_list(spec.get("volumes"))):
        path = as_str(as_dict(as_dict(volume).get("hostPath")).get("path"))
        normal = path.rstrip("/") or ("/" if path else "")
        if normal in SENSITIVE:
            yield Hit(
                f"{prefix}.volumes[{i}].hostPath.path",
                f"volume mounts {path} from the node, {SENSITIVE[normal]}",
            )


RULE = Rule(
    id="KB023",
    slug="hostpath-sensitive",
    title="hostPath mount of the node's root filesystem or container runtime socket",
    severity=Severity.ERROR,
    kinds=WORKLOAD_KINDS,
    checks="Pod volumes with `hostPath.path` of `/`, `/etc`, `/root`, `/proc`, "
    "`/var/lib/kubelet` or a container runtime socket.",
    why="Such a mount gives the pod the node: write to `/etc` or start containers through the "
    "runtime socket and you are root on the host, with the kubelet's credentials. A "
    "compromised agent with the host filesystem mounted is how a miner gets onto every node.",
    fix="Mount only the specific read-only paths an agent needs (for example "
    "`/var/log/pods`), with `readOnly: true`, or use a CSI driver instead of hostPath.",
    fix_example="""volumes:
- name: pod-logs
  hostPath:
    path: /var/log/pods
    type: Directory
containers:
- name: agent
  volumeMounts:
  - {name: pod-logs, mountPath: /var/log/pods, readOnly: true}
""",
    references=(
        "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
    ),
    check=check,
)
