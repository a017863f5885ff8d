"""KB016: CronJobs whose runs may overlap."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import set_field


def check(obj, ctx):
    policy = obj.spec.get("concurrencyPolicy", "Allow")
    if policy == "Allow":
        yield Hit(
            "spec.concurrencyPolicy",
            "concurrencyPolicy is Allow (the default): when a run takes longer than the "
            "schedule interval, runs pile up and multiply pods",
            set_field("spec.concurrencyPolicy", "Forbid", "concurrencyPolicy" in obj.spec),
        )


RULE = Rule(
    id="KB016",
    slug="cronjob-concurrency-allow",
    title="CronJob that allows concurrent runs",
    severity=Severity.WARNING,
    kinds=("CronJob",),
    checks="CronJobs with `concurrencyPolicy: Allow` or no `concurrencyPolicy` (Allow is the "
    "default).",
    why="With `Allow`, every schedule tick starts a new Job whether or not the previous one "
    "finished. A slow or stuck job on a frequent schedule piles up Jobs and pods until quotas, "
    "nodes or the API server give out.",
    fix="Use `concurrencyPolicy: Forbid` (skip a run while one is active) or `Replace`. Put "
    "the field in the CronJob `spec`, not in the job or pod template (see KB034).",
    fix_example="""apiVersion: batch/v1
kind: CronJob
spec:
  schedule: "7 8-18 * * Mon-Fri"
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#concurrency-policy",
    ),
    check=check,
)
