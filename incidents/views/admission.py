"""`POST /admission/validate`: the manifest rules as a Kubernetes validating admission webhook.

The review itself is `incidents.rules.admission_review.review` (plain Python, documented in
docs/admission.md). Here:
- hard limits: a body above KB_ADMISSION_MAX_BYTES gets 413 without being read; a review that
  takes longer than KB_ADMISSION_TIMEOUT_MS is answered `allowed` with a warning;
- fail open: any internal problem (a rule crashing, the time limit) answers `allowed: true` with
  a warning, and the log line says `fail-open` with the cause;
- a body that is not an AdmissionReview gets 400 with a JSON error (the API server then applies
  the webhook's failurePolicy; the example configuration says Ignore);
- one log line per review: uid, operation, kind, namespace/name, findings, the decision, time.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents.rules.admission_review import BadReview, parse_review, response, review
from incidents.rules.base import Severity
from incidents.rules.stories import StoryFiles

logger = logging.getLogger("kb.admission")
# Reviews run here so that a slow one can be abandoned at the time limit (it finishes in the
# background; the pool bounds how many can pile up, and queued ones time out and fail open).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kb-admission")


@cache
def _stories(site_url: str) -> StoryFiles:
    return StoryFiles(site_url)


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"status": status, "message": message}}, status=status)


def _deny_at() -> Severity | None:
    value = settings.KB_ADMISSION_DENY_AT
    return None if value == "off" else Severity.parse(value)


def _read_body(request: HttpRequest) -> bytes | None:
    """The body, or None when it is larger than the limit (read no further than that)."""
    limit = settings.KB_ADMISSION_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
@never_cache
@require_POST
def validate(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    body = _read_body(request)
    if body is None:
        limit = settings.KB_ADMISSION_MAX_BYTES
        logger.warning("admission refused: body larger than %d bytes", limit)
        return _error(413, f"The AdmissionReview is larger than {limit} bytes.")
    try:
        data = json.loads(body)
        uid = parse_review(data)["uid"]
    except (ValueError, RecursionError) as exc:
        message = str(exc) if isinstance(exc, BadReview) else "the body is not valid JSON"
        logger.warning("admission refused: %s", message)
        return _error(400, f"Not an admission.k8s.io/v1 AdmissionReview: {message}.")
    stories = _stories(settings.SITE_URL)
    future = _POOL.submit(
        review, data, deny_at=_deny_at(), stories=stories, rule_url=stories.rule_url
    )
    try:
        answer, facts = future.result(timeout=settings.KB_ADMISSION_TIMEOUT_MS / 1000)
    except FutureTimeout:
        return _fail_open(uid, f"review took longer than {settings.KB_ADMISSION_TIMEOUT_MS} ms")
    except Exception as exc:  # fail open: the cluster keeps working whatever happens here
        return _fail_open(uid, f"internal error {type(exc).__name__}", exc_info=exc)
    elapsed = (time.perf_counter() - started) * 1000
    logger.info(
        "admission %s uid=%s %s %s %s/%s findings=%d%s in %.1f ms",
        "allowed" if facts["allowed"] else "denied",
        facts["uid"],
        facts["operation"],
        facts["kind"],
        facts["namespace"] or "-",
        facts["name"] or "-",
        facts["findings"],
        f" skipped={facts['skipped']}" if "skipped" in facts else "",
        elapsed,
    )
    return JsonResponse(answer)


def _fail_open(uid: str, cause: str, exc_info: BaseException | None = None) -> JsonResponse:
    logger.error("admission fail-open uid=%s: %s; allowed", uid, cause, exc_info=exc_info)
    warning = f"kbcheck could not review this object ({cause}); it was allowed unchecked"
    return JsonResponse(response(uid, warnings=[warning]))
