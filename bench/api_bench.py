"""API throughput: a trivial JSON endpoint vs. the search endpoint, and chat reply latency.

    .venv/bin/python bench/api_bench.py [--seconds 10] [--clients 8] [--workers 2] [--redis URL]

Builds a throwaway SQLite database with the curated stories under a temporary directory, serves
it with gunicorn (sync workers) on 127.0.0.1, and loads, for the same duration each:
  - GET /api/v1/                 (the API root: auth, throttle, JSON; no database or search work)
  - GET /api/v1/stories/?q=...   (10 results with highlights and facets, rotating queries)
then POSTs signed Slack slash commands one at a time and reports their latency.
Prints req/s, p50/p99 and the search/trivial ratio. Throttling stays on (with a rate too high to
trigger) so both endpoints pay for it; pass --redis to count in Redis instead of the DB cache.
Target (issue 6): search >= 25% of trivial throughput; chat p99 < 500 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUERIES = [
    "dns timeouts",
    "oomkilled memory limit",
    "cpu throttling latency",
    "etcd",
    "ingress 502 during deploy",
    "certificate expired",
    "node not ready",
    "cluster autoscaler",
]
SLACK_SECRET = "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict[str, str]) -> None:
    manage = [PYTHON, str(ROOT / "manage.py")]
    commands = [["migrate", "--noinput"], ["createcachetable"], ["load_stories"]]
    available = subprocess.run(
        [*manage, "help", "--commands"], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    if "sync_rules" in available:
        commands.append(["sync_rules"])
    commands.append(["rebuild_search_index"])
    for command in commands:
        subprocess.run([*manage, *command], env=env, check=True, capture_output=True)


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready")


def request(port: int, method: str, path: str, body: bytes = b"", headers=None) -> float:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body or None, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {path} -> {response.status}")
    return time.perf_counter() - start


def _client(args: tuple[int, str, float, int]) -> list[float]:
    port, kind, seconds, offset = args
    latencies = []
    end = time.monotonic() + seconds
    i = offset
    while time.monotonic() < end:
        if kind == "trivial":
            path = "/api/v1/"
        else:
            path = f"/api/v1/stories/?q={quote(QUERIES[i % len(QUERIES)])}&per_page=10"
        latencies.append(request(port, "GET", path))
        i += 1
    return latencies


def load(port: int, kind: str, seconds: float, clients: int) -> dict[str, float]:
    with multiprocessing.Pool(clients) as pool:
        started = time.monotonic()
        results = pool.map(_client, [(port, kind, seconds, n) for n in range(clients)])
        elapsed = time.monotonic() - started
    latencies = sorted(x for r in results for x in r)
    return summary(latencies, elapsed)


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": pct(0.99),
    }


def chat_latency(port: int, n: int) -> dict[str, float]:
    latencies = []
    started = time.monotonic()
    for i in range(n):
        body = urlencode({"command": "/kb", "text": QUERIES[i % len(QUERIES)]}).encode()
        ts = str(int(time.time()))
        digest = hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": "v0=" + digest.hexdigest(),
        }
        latencies.append(request(port, "POST", "/chat/slack/", body, headers))
    return summary(sorted(latencies), time.monotonic() - started)


# Where a request's time goes: (label, module path suffix, function name), measured as the
# cumulative time of that function in a cProfile of in-process requests (Django's test client,
# same settings as the served app). "other" is the rest: middleware, routing, DRF, rendering.
SPLIT = [
    ("throttle (rate-limit counter)", "incidents/ratelimit.py", "consume"),
    ("search: parse query", "incidents/search/query.py", "parse"),
    ("search: rank, filter, count facets", "incidents/search/whoosh_backend.py", "_top"),
    ("search: facet counts", "incidents/search/whoosh_backend.py", "_facet_counts"),
    ("search: facet labels", "incidents/search/documents.py", "build_facets"),
    ("search: did-you-mean", "incidents/search/whoosh_backend.py", "_suggest"),
    ("search: load hit stories (DB)", "incidents/search/documents.py", "load_hits_stories"),
    ("search: highlights", "incidents/search/whoosh_backend.py", "highlights"),
    ("search: whole backend call", "incidents/search/whoosh_backend.py", "search"),
    ("serialise results", "incidents/api/serializers.py", "story_items"),
]


def profile_split(env: dict[str, str], n: int) -> None:
    """Serve `n` requests of each endpoint in this process under cProfile and print the split."""
    import cProfile
    import pstats

    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kb.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test import Client

    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1")
    paths = {
        "trivial": ["/api/v1/"],
        "search": [f"/api/v1/stories/?q={quote(q)}&per_page=10" for q in QUERIES],
    }
    print(f"\nwhere the time goes (in process, {n} requests each, cProfile; ms per request):")
    for kind, urls in paths.items():
        for url in urls:  # warm up
            client.get(url)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for i in range(n):
            response = client.get(urls[i % len(urls)])
        profiler.disable()
        elapsed = (time.perf_counter() - started) / n * 1000
        assert response.status_code == 200, response.status_code
        stats = pstats.Stats(profiler).stats
        parts = []
        for label, path, name in SPLIT:
            ct = sum(v[3] for (f, _, fn), v in stats.items() if fn == name and f.endswith(path))
            if ct:
                parts.append((label, ct / n * 1000))
        print(f"  {kind}: {elapsed:.2f} ms per request under the profiler")
        for label, ms in parts:
            print(f"    {label:40} {ms:7.2f} ms  {ms / elapsed:5.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chat-requests", type=int, default=200)
    parser.add_argument("--redis", default="", help="REDIS_URL for the throttle counters")
    parser.add_argument(
        "--profile", type=int, default=200, help="requests per endpoint to profile (0: skip)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kb-api-bench-"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "KB_VAR_DIR": str(tmp),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "warning",
        "KB_REQUEST_LOG_LEVEL": "warning",
        "KB_API_THROTTLE_ANON": "100000000/minute",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "KB_TESTING": "true",  # plain static storage: no collectstatic needed
    }
    if args.redis:
        env["REDIS_URL"] = args.redis
    print(f"preparing database and index in {tmp} ...", flush=True)
    prepare(env)
    server = subprocess.Popen(
        [
            PYTHON, "-m", "gunicorn", "kb.wsgi", "-b", f"127.0.0.1:{port}",
            "-w", str(args.workers), "-k", "sync", "--log-level", "warning",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_ready(port)
        for kind in ("trivial", "search"):  # warm up both (imports, caches, index readers)
            load(port, kind, 1, args.clients)
        trivial = load(port, "trivial", args.seconds, args.clients)
        search = load(port, "search", args.seconds, args.clients)
        chat = chat_latency(port, args.chat_requests)
        if args.profile:
            profile_split(env, args.profile)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    cache = "redis" if args.redis else "database cache"
    print(
        f"\ngunicorn {args.workers} sync workers, {args.clients} client processes, "
        f"{args.seconds:g}s per endpoint, throttle counters in the {cache}"
    )
    for name, r in (("trivial GET /api/v1/", trivial), ("search GET /api/v1/stories/?q=", search)):
        print(
            f"{name:32} {r['rps']:8.0f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms"
            f"   ({r['requests']} requests)"
        )
    ratio = search["rps"] / trivial["rps"]
    print(f"search/trivial throughput ratio: {ratio:.0%} (target >= 25%)")
    print(
        f"chat POST /chat/slack/ (1 client): p50 {chat['p50']:.1f} ms   p99 {chat['p99']:.1f} ms"
        f"   (target p99 < 500 ms)"
    )


if __name__ == "__main__":
    main()
