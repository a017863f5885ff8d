"""KB034: CronJob fields written inside the job or pod template, where they do nothing."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_dict, dig

CRONJOB_FIELDS = (
    "schedule",
    "concurrencyPolicy",
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "suspend",
    "timeZone",
)
PLACES = (
    ("spec.jobTemplate", ("spec", "jobTemplate")),
    ("spec.jobTemplate.spec", ("spec", "jobTemplate", "spec")),
    ("spec.jobTemplate.spec.template.spec", ("spec", "jobTemplate", "spec", "template", "spec")),
)


def check(obj, ctx):
    for prefix, keys in PLACES:
        level = as_dict(dig(obj.data, *keys))
        for field in CRONJOB_FIELDS:
            if field in level:
                yield Hit(
                    f"{prefix}.{field}",
                    f"{field} is inside {prefix}, where Kubernetes ignores it: it belongs "
                    "directly under the CronJob's spec",
                )


RULE = Rule(
    id="KB034",
    slug="cronjob-fields-misplaced",
    title="CronJob field placed in the job or pod template",
    severity=Severity.ERROR,
    kinds=("CronJob",),
    checks="CronJob-level fields (`concurrencyPolicy`, `startingDeadlineSeconds`, the history "
    "limits, `suspend`, `schedule`, `timeZone`) found under `jobTemplate`, its `spec` or the "
    "pod `spec`.",
    why="Unknown fields in nested templates are dropped (older API servers did so silently), "
    "so a `concurrencyPolicy: Forbid` indented one level too deep leaves the default `Allow`: "
    "the CronJob looks safe in review but piles up runs.",
    fix="Move the fields to `spec` of the CronJob and validate manifests with "
    "`kubectl apply --dry-run=server --validate=strict`.",
    fix_example="""apiVersion: batch/v1
kind: CronJob
spec:
  schedule: "7 8-18 * * Mon-Fri"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      activeDeadlineSeconds: 120
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#writing-a-cronjob-spec",
    ),
    check=check,
)
