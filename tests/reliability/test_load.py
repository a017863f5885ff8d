"""A bounded load run at a fixed arrival rate against gunicorn on loopback: mixed page views,
searches, API reads and manifest checks. Prints throughput and latency; requires zero errors."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability import harness
from tests.reliability.conftest import report

RATE = 40  # requests per second, fixed arrival schedule (open loop)
SECONDS = 8
P99_LIMIT = 2.0  # seconds; generous for a shared CI machine, the printed numbers are the point

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:latest
        resources: {limits: {cpu: "1"}}
"""


def mix(slug: str) -> list[tuple[str, str, str | None, dict]]:
    yaml = {"Content-Type": "application/yaml"}
    return [
        ("GET", "/", None, {}),
        ("GET", "/stories/?q=dns+timeouts", None, {}),
        ("GET", f"/stories/{slug}/", None, {}),
        ("GET", "/api/v1/stories/?q=pods+pending+no+free+ip", None, {}),
        ("GET", "/api/v1/stories/?q=OOMKilled&platform=gke", None, {}),
        ("GET", f"/api/v1/stories/{slug}/", None, {}),
        ("GET", "/api/v1/rules/", None, {}),
        ("POST", "/api/v1/check/", MANIFEST, yaml),
        ("POST", "/api/v1/check/?format=sarif", MANIFEST, yaml),
        ("GET", "/readyz", None, {}),
    ]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_fixed_rate_mixed_load_has_no_errors(kind, tmp_path, capsys):
    with harness.site(kind, tmp_path) as site, harness.Server(site, workers=2, threads=4) as srv:
        slug = harness.request(srv.base, "GET", "/api/v1/stories/").json()["results"][0]["slug"]
        requests = mix(slug)
        for method, path, body, headers in requests:  # warm up each kind once
            assert harness.request(srv.base, method, path, body=body, headers=headers).status < 300
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def one(n: int) -> None:
            method, path, body, headers = requests[n % len(requests)]
            try:
                reply = harness.request(
                    srv.base, method, path, body=body, headers=headers, timeout=10
                )
                ok, detail = reply.status == 200, f"{reply.status} {method} {path}"
                seconds = reply.seconds
            except OSError as exc:
                ok, detail, seconds = False, f"{exc!r} {method} {path}", 10.0
            with lock:
                latencies.append(seconds)
                if not ok:
                    errors.append(detail)

        total = RATE * SECONDS
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for n in range(total):
                delay = started + n / RATE - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(one, n)
        elapsed = time.perf_counter() - started
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        report(
            capsys,
            f"load ({kind}, {RATE} req/s offered for {SECONDS} s)",
            requests=len(latencies),
            throughput_rps=round(len(latencies) / elapsed, 1),
            p50_ms=round(p50 * 1000, 1),
            p99_ms=round(p99 * 1000, 1),
            max_ms=round(latencies[-1] * 1000, 1),
            errors=len(errors),
        )
        assert errors == []
        assert len(latencies) == total
        assert p99 < P99_LIMIT
