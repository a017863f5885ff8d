"""KB021: privileged containers."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, containers, dig


def check(obj, ctx):
    for container, path in containers(obj, init=True):
        if dig(container, "securityContext", "privileged") is True:
            yield Hit(
                f"{path}.securityContext.privileged",
                f"container {container.get('name', '?')!s} is privileged: whoever runs code in "
                "it owns the node",
            )


RULE = Rule(
    id="KB021",
    slug="privileged-container",
    title="Privileged container",
    severity=Severity.ERROR,
    kinds=WORKLOAD_KINDS,
    checks="Containers and init containers with `securityContext.privileged: true`.",
    why="A privileged container has every capability and all host devices; escaping to the "
    "node is trivial. Monitoring agents often ask for it, and when such an agent's UI is "
    "reachable, anyone can run commands as root on every node.",
    fix="Drop `privileged`; grant only the capabilities the process needs, run as non-root and "
    "enforce the `restricted` or `baseline` Pod Security Standard on the namespace.",
    fix_example="""securityContext:
  privileged: false
  allowPrivilegeEscalation: false
  runAsNonRoot: true
  capabilities:
    drop: ["ALL"]
    add: ["NET_BIND_SERVICE"]
""",
    references=(
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
        "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
    ),
    check=check,
)
