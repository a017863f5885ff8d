"""KB022: pods sharing the host's PID, network or IPC namespace."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, pod_spec


def check(obj, ctx):
    spec, prefix = pod_spec(obj)
    for field in ("hostPID", "hostNetwork", "hostIPC"):
        if spec.get(field) is True:
            yield Hit(
                f"{prefix}.{field}",
                f"{field}: true shares the node's namespace with the pod: its processes see "
                "(and with root, can act on) the host's",
            )


RULE = Rule(
    id="KB022",
    slug="host-namespaces",
    title="Pod sharing the host PID, network or IPC namespace",
    severity=Severity.WARNING,
    kinds=WORKLOAD_KINDS,
    checks="Pod specs with `hostPID`, `hostNetwork` or `hostIPC` set to true.",
    why="Host namespaces remove the isolation between the pod and the node: with hostPID a "
    "root process can inspect and signal every process on the node, with hostNetwork it binds "
    "host ports and reaches node-local services. Combined with a reachable agent, this is how "
    "an intruder gets from one pod to every node.",
    fix="Remove the fields unless the pod is a node agent that truly needs them; restrict "
    "such agents to a dedicated namespace with the `privileged` Pod Security level and no "
    "external exposure.",
    fix_example="""spec:
  hostPID: false
  hostNetwork: false
  hostIPC: false
""",
    references=("https://kubernetes.io/docs/concepts/security/pod-security-standards/",),
    check=check,
)
