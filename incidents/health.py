"""Probes for load balancers and Kubernetes.

- `/healthz` (liveness): the process answers. It touches nothing else, so a database outage
  never makes Kubernetes restart healthy app containers (which would only add load).
- `/readyz` (readiness): the database answers a query and the search index answers a search,
  both through the same code paths the pages use. A failing dependency returns 503 with the
  name of what failed, so the pod is taken out of the Service until it recovers by itself.

Both are plain JSON, never cached. A failed check carries a `cause`: a fixed phrase naming what
is wrong and what repairs it, or the exception class; never the exception's message (it can hold
host names and paths, and the probe is reachable by anyone who can reach the pod).
"""

from __future__ import annotations

import logging
import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from incidents import search

logger = logging.getLogger("kb.health")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    if not row or row[0] != 1:
        raise RuntimeError("unexpected answer to SELECT 1")


class NotReady(Exception):
    """A check failed for a known reason; the message is the public `cause`."""


def _check_search() -> None:
    """The index exists and answers a query, through the same interface the pages use. A stale
    entry is not a readiness failure (the index still answers; the system check reports it)."""
    if not search.index_status()["exists"]:
        raise NotReady("search index missing: run rebuild_search_index")
    try:
        search.search("pod restart", per_page=1, highlight=True)
    except Exception as exc:
        logger.warning("search readiness query failed", exc_info=True)
        raise NotReady(
            f"search index cannot answer a search ({exc.__class__.__name__}):"
            " run rebuild_search_index --check"
        ) from exc


CHECKS = {"database": _check_database, "search": _check_search}


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready", never a 500
            healthy = False
            cause = str(exc) if isinstance(exc, NotReady) else exc.__class__.__name__
            results[name] = {"status": "fail", "cause": cause}
            # A broken database connection does not stick to this thread: Django closes
            # unusable connections when the request finishes (close_old_connections).
            logger.warning("readiness check %s failed: %s", name, exc.__class__.__name__)
        else:
            results[name] = {"status": "ok"}
        results[name]["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": results}, status=200 if healthy else 503
    )
