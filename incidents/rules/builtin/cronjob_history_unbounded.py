"""KB018: CronJobs that keep too many finished Jobs."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_int, set_field

MAX_HISTORY = 10


def check(obj, ctx):
    spec = obj.spec
    for field, default in (("successfulJobsHistoryLimit", 3), ("failedJobsHistoryLimit", 1)):
        if field not in spec and obj.api_version == "batch/v2alpha1":
            yield Hit(
                f"spec.{field}",
                f"no {field} under batch/v2alpha1, where finished Jobs are kept forever",
                set_field(f"spec.{field}", default, False),
            )
            continue
        value = as_int(spec.get(field, default))
        if value is not None and value > MAX_HISTORY:
            yield Hit(
                f"spec.{field}",
                f"{field} is {value}: every finished Job and its pods stay in the API server",
                set_field(f"spec.{field}", default, field in spec),
            )


RULE = Rule(
    id="KB018",
    slug="cronjob-history-unbounded",
    title="CronJob keeping too many finished Jobs",
    severity=Severity.WARNING,
    kinds=("CronJob",),
    checks="CronJobs whose `successfulJobsHistoryLimit` or `failedJobsHistoryLimit` is above "
    "10, or unset under `batch/v2alpha1` (which kept every Job).",
    why="Finished Jobs and their pods are API objects: a frequent schedule with a large or "
    "missing history limit fills etcd and the API server's memory with them, and listing them "
    "is what controllers and dashboards do all day.",
    fix="Keep the defaults (3 successful, 1 failed) or small explicit values, in the CronJob "
    "`spec`; use `ttlSecondsAfterFinished` on Jobs.",
    fix_example="""spec:
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#jobs-history-limits",
    ),
    check=check,
)
