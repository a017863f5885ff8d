"""KB008: a termination grace period too short for the preStop delay and draining."""

import math

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import (
    SERVING_KINDS,
    as_int,
    pod_spec,
    prestop_seconds,
    set_field,
)

DRAIN_SECONDS = 5  # time left after the preStop delay to finish in-flight requests


def check(obj, ctx):
    serving = ctx.serving_containers(obj)
    if not serving:
        return
    spec, prefix = pod_spec(obj)
    grace = as_int(spec.get("terminationGracePeriodSeconds", 30))
    if grace is None:
        return
    delays = [prestop_seconds(c) for c, _, _ in serving]
    if all(d is None for d in delays):
        return  # no preStop hook at all: KB007 reports that, once, on the container
    delay = max((d or 0.0 for d in delays), default=0.0)
    if grace < delay + DRAIN_SECONDS:
        yield Hit(
            f"{prefix}.terminationGracePeriodSeconds",
            f"terminationGracePeriodSeconds is {grace}s but the preStop delay is {delay:g}s: the "
            f"container is killed with SIGKILL before it can drain (need at least "
            f"{delay + DRAIN_SECONDS:g}s)",
            set_field(
                f"{prefix}.terminationGracePeriodSeconds",
                math.ceil(delay + DRAIN_SECONDS),
                "terminationGracePeriodSeconds" in spec,
            ),
        )


RULE = Rule(
    id="KB008",
    slug="grace-period-too-short",
    title="Termination grace period shorter than the preStop delay plus draining",
    severity=Severity.WARNING,
    kinds=(*SERVING_KINDS, "DaemonSet", "Pod"),
    checks="Pods behind a Service with a preStop hook whose `terminationGracePeriodSeconds` "
    "(default 30) is less than their longest preStop delay plus 5 seconds. Pods with no preStop "
    "hook at all are KB007's finding, reported once there.",
    why="The grace period covers the preStop hook *and* the application's shutdown. When the "
    "preStop sleep takes most of it, the kubelet sends SIGKILL while requests are still in "
    "flight, which is exactly what the delay was meant to avoid: dropped requests and 502s on "
    "every rollout.",
    fix="Set `terminationGracePeriodSeconds` to the preStop delay plus the longest request or "
    "shutdown time you expect.",
    fix_example="""spec:
  terminationGracePeriodSeconds: 45
  containers:
  - name: app
    lifecycle:
      preStop:
        exec:
          command: ["sleep", "15"]
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination",
    ),
    check=check,
)
