"""KB015: Jobs without an explicit retry budget."""

from incidents.rules.base import Hit, Rule, Severity
from incidents.rules.objects import as_int, job_spec, set_field

MAX_BACKOFF = 6
SUGGESTED = 3  # what the patch sets: a few retries, then the Job fails


def check(obj, ctx):
    spec, prefix = job_spec(obj)
    if not spec:
        return
    limit = as_int(spec.get("backoffLimit"))
    patch = set_field(f"{prefix}.backoffLimit", SUGGESTED, "backoffLimit" in spec)
    if "backoffLimit" not in spec:
        yield Hit(
            f"{prefix}.backoffLimit",
            "no backoffLimit: a failing run is retried up to 6 times by default, each retry "
            "starting pods again (possibly on another node)",
            patch,
        )
    elif limit is not None and limit > MAX_BACKOFF:
        yield Hit(
            f"{prefix}.backoffLimit",
            f"backoffLimit {limit} lets a failing run restart its pods {limit} times",
            patch,
        )


RULE = Rule(
    id="KB015",
    slug="job-no-backoff-limit",
    title="Job without a deliberate backoffLimit",
    severity=Severity.INFO,
    kinds=("Job", "CronJob"),
    checks="Jobs and CronJob job templates that leave `backoffLimit` unset or set it above 6.",
    why="Every retry starts new pods. A job that fails because it exhausts its node is "
    "rescheduled onto the next node, and the next, so an unbounded or large retry budget "
    "turns one bad run into a cluster-wide problem.",
    fix="Set `backoffLimit` to the number of retries that makes sense for the job (often 0-3), "
    "together with `activeDeadlineSeconds` and resource requests and limits.",
    fix_example="""spec:
  backoffLimit: 2
  activeDeadlineSeconds: 3600
""",
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy",
    ),
    check=check,
)
