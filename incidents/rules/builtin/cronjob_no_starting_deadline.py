"""KB017: CronJobs without startingDeadlineSeconds."""

from incidents.rules.base import Hit, Rule, Severity


def check(obj, ctx):
    if "startingDeadlineSeconds" not in obj.spec:
        yield Hit(
            "spec.startingDeadlineSeconds",
            "no startingDeadlineSeconds: after more than 100 missed schedules (controller "
            "downtime, a long Forbid run, suspension) the CronJob stops being scheduled",
        )


RULE = Rule(
    id="KB017",
    slug="cronjob-no-starting-deadline",
    title="CronJob without startingDeadlineSeconds",
    severity=Severity.INFO,
    kinds=("CronJob",),
    checks="CronJobs without `spec.startingDeadlineSeconds`.",
    why="Without a starting deadline the CronJob controller counts every missed schedule since "
    "the last run; past 100 it logs an error and never starts the job again: a frozen "
    "CronJob. A deadline bounds the count and also stops a burst of catch-up runs after an "
    "outage.",
    fix="Set `startingDeadlineSeconds` to how late a run may still start (for example a few "
    "minutes, less than the schedule interval).",
    fix_example="""spec:
  schedule: "*/15 * * * *"
  startingDeadlineSeconds: 300
  concurrencyPolicy: Forbid
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#job-creation",
    ),
    check=check,
)
