"""KB005: a liveness probe identical to the readiness probe."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, containers, probe_handler


def check(obj, ctx):
    for container, path in containers(obj):
        liveness = probe_handler(container.get("livenessProbe"))
        if liveness is not None and liveness == probe_handler(container.get("readinessProbe")):
            yield Hit(
                f"{path}.livenessProbe",
                f"container {container.get('name', '?')!s}: liveness and readiness probes call "
                f"the same {liveness[0]} check, so an overloaded pod is restarted instead of "
                "only taken out of rotation",
            )


RULE = Rule(
    id="KB005",
    slug="liveness-equals-readiness",
    title="Liveness probe identical to the readiness probe",
    severity=Severity.WARNING,
    kinds=WORKLOAD_KINDS,
    checks="Containers whose `livenessProbe` uses the same handler (same HTTP path and port, "
    "TCP port, command or gRPC service) as their `readinessProbe`.",
    why='Readiness answers "can I take traffic now?", liveness "am I stuck for good?". '
    "When both call one endpoint, the first load spike that makes pods unready also restarts "
    "them, and the restarts push the load to the survivors: a cascade instead of load shedding.",
    fix="Point liveness at a cheap endpoint that only checks the process itself, with a longer "
    "timeout and threshold than readiness.",
    fix_example="""readinessProbe:
  httpGet: {path: /ready, port: http}
  periodSeconds: 5
livenessProbe:
  httpGet: {path: /livez, port: http}
  timeoutSeconds: 5
  failureThreshold: 6
""",
    references=(
        "https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/",
    ),
    check=check,
)
