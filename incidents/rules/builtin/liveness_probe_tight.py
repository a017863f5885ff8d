"""KB004: liveness probes that restart pods under load."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import WORKLOAD_KINDS, as_int, containers

MIN_TIMEOUT = 2  # seconds
MIN_WINDOW = 30  # failureThreshold x periodSeconds, seconds


def check(obj, ctx):
    for container, path in containers(obj):
        probe = container.get("livenessProbe")
        if not isinstance(probe, dict):
            continue
        name = container.get("name", "?")
        timeout = as_int(probe.get("timeoutSeconds", 1)) or 1
        if timeout < MIN_TIMEOUT:
            yield Hit(
                f"{path}.livenessProbe.timeoutSeconds",
                f"container {name!s}: liveness probe times out after {timeout}s, so a slow "
                "response under load or CPU throttling counts as a failure and restarts the pod",
            )
        period = as_int(probe.get("periodSeconds", 10)) or 10
        failures = as_int(probe.get("failureThreshold", 3)) or 3
        if period * failures < MIN_WINDOW:
            yield Hit(
                f"{path}.livenessProbe.failureThreshold",
                f"container {name!s}: liveness probe kills the container after "
                f"{failures} x {period}s = {failures * period}s of failures (less than "
                f"{MIN_WINDOW}s): a short stall becomes a restart",
            )


RULE = Rule(
    id="KB004",
    slug="liveness-probe-tight",
    title="Liveness probe with too tight a timeout or threshold",
    severity=Severity.WARNING,
    kinds=WORKLOAD_KINDS,
    checks="Liveness probes whose `timeoutSeconds` is below 2 (the default is 1) or whose "
    "`failureThreshold` x `periodSeconds` is below 30 seconds.",
    why="A liveness failure restarts the container. Under load, GC pauses or CPU throttling "
    "a healthy process answers late; a 1-second timeout turns that into restarts, and restarts "
    "move load to the remaining pods, which then fail too. A probe on a critical static pod "
    "(etcd) can take a whole control plane down.",
    fix="Give liveness probes generous timeouts and thresholds (they should catch deadlocks, "
    "not slowness), use a `startupProbe` for slow starts, and keep readiness for load shedding.",
    fix_example="""livenessProbe:
  httpGet:
    path: /livez
    port: http
  timeoutSeconds: 5
  periodSeconds: 10
  failureThreshold: 6
""",
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
    ),
    check=check,
)
