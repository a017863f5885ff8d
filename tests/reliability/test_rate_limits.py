"""Rate limits hold across gunicorn workers, with the counters in the database and in Redis: a
client hammering several workers at once never gets more than its limit, and loses at most one
lease per worker thread (incidents.ratelimit)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability import harness
from tests.reliability.conftest import report

LIMIT = 600  # per hour: a lease of 6 requests (1% of the limit)
LEASE = 6
WORKERS, THREADS = 3, 2


def wait_clear_of_the_hour_boundary(margin: float = 90) -> None:
    """The hourly window must not turn over during the burst (a new window is a new quota)."""
    left = 3600 - time.time() % 3600
    if left < margin:
        time.sleep(left + 1)


@pytest.mark.parametrize("store", ["database", "redis"])
def test_a_client_never_gets_more_than_its_limit_across_workers(tmp_path, capsys, store):
    extra = {"KB_API_THROTTLE_ANON": f"{LIMIT}/hour", "KB_RATE_LIMIT_LEASE": "50"}
    if store == "redis":
        extra["REDIS_URL"] = harness.REDIS_BASE
    with (
        harness.site("sqlite", tmp_path, **extra) as site,
        harness.Server(site, workers=WORKERS, threads=THREADS) as srv,
    ):
        wait_clear_of_the_hour_boundary()

        def get(_: int) -> int:
            return harness.request(srv.base, "GET", "/api/v1/").status

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(get, range(LIMIT + 150)))
        ok = statuses.count(200)
        report(capsys, f"rate limit across {WORKERS} workers ({store})", allowed=ok, limit=LIMIT)
        assert set(statuses) <= {200, 429}
        assert ok <= LIMIT
        assert ok >= LIMIT - WORKERS * THREADS * (LEASE - 1)
        assert statuses[-1] == 429
