"""KB014: Jobs and CronJobs that can run forever."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import job_spec


def check(obj, ctx):
    spec, prefix = job_spec(obj)
    if "activeDeadlineSeconds" not in spec:
        yield Hit(
            f"{prefix}.activeDeadlineSeconds",
            "no activeDeadlineSeconds: a stuck or runaway run keeps its pods (and their node "
            "resources) until someone notices",
        )


RULE = Rule(
    id="KB014",
    slug="job-no-active-deadline",
    title="Job without activeDeadlineSeconds",
    severity=Severity.WARNING,
    kinds=("Job", "CronJob"),
    checks="Jobs, and the job template of CronJobs, without `activeDeadlineSeconds`.",
    why="A Job has no time limit by default. A hung batch run holds its pods and resources "
    "indefinitely; for a CronJob the next runs queue behind it or start beside it, and a job "
    "that overloads its node keeps being retried on the next node.",
    fix="Set `activeDeadlineSeconds` a comfortable margin above the longest normal run; the "
    "Job is then failed and its pods removed when the deadline passes.",
    fix_example="""apiVersion: batch/v1
kind: Job
metadata:
  name: reindex
spec:
  activeDeadlineSeconds: 3600
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup",
    ),
    check=check,
)
