"""API throughput: a trivial JSON endpoint vs. the search endpoint, and chat reply latency.

    .venv/bin/python bench/api_bench.py [--seconds 10] [--rounds 5] [--clients 8] [--workers 2]
        [--redis URL]

Builds a throwaway SQLite database with the curated stories under a temporary directory, serves
it with gunicorn (sync workers) on 127.0.0.1, and loads, for the same duration each, in turns:
  - GET /api/v1/                 (the API root: auth, throttle, JSON; no database or search work)
  - GET /api/v1/stories/?q=...   (10 results with highlights and facets, rotating queries)
then POSTs signed Slack slash commands one at a time and reports their latency.
Prints req/s, p50/p99, the workers' CPU time per request and the search/trivial ratio, then where
an in-process request's time goes. Throttling stays on (with a rate too high to trigger) so both
endpoints pay for it. With --redis (the production set-up) the counters are in Redis, and the
trivial endpoint is measured a second time on a server counting in the database, in the same
run. Targets (issue 14): search >= 40% of trivial throughput, database counters >= 70% of Redis;
(issue 6) chat p99 < 500 ms.
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


def load(port: int, kind: str, seconds: float, clients: int) -> tuple[list[float], float]:
    """Every request's latency and the wall time they took."""
    with multiprocessing.Pool(clients) as pool:
        started = time.monotonic()
        results = pool.map(_client, [(port, kind, seconds, n) for n in range(clients)])
        elapsed = time.monotonic() - started
    return [x for r in results for x in r], elapsed


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    latencies = sorted(latencies)

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


# Where a request's time goes: (label, "module:function" or "module:Class.method"), each timed
# by a wrapper around that function (outermost call only) while in-process requests run through
# Django's test client with the served app's settings. Wrappers cost a few microseconds per call,
# far less than a profiler's per-call hook, so the split stays close to the real request. The
# indented lines are parts of the line above; "middleware, routing, response" is the handler's
# time outside DRF's dispatch.
SPLIT = [
    ("Django handler (whole request)", "django.core.handlers.base:BaseHandler.get_response"),
    ("DRF view (dispatch)", "rest_framework.views:APIView.dispatch"),
    ("  authentication", "rest_framework.views:APIView.perform_authentication"),
    ("  throttle (rate-limit counter)", "rest_framework.views:APIView.check_throttles"),
    ("  query parameters", "incidents.api.filters:parse_query"),
    ("  search (incidents.search.search)", "incidents.search:search"),
    ("    parse query", "incidents.search.query:parse"),
    ("    rank, filter, count facets", "incidents.search.whoosh_backend:execute"),
    ("    load hit stories (DB)", "incidents.search.documents:load_hits_stories"),
    ("    highlights", "incidents.search.whoosh_backend:highlight"),
    ("    did-you-mean", "incidents.search.engine:suggest"),
    ("    facet labels", "incidents.search.documents:build_facets"),
    ("  categories, technologies, rule links", "django.db.models.query:prefetch_related_objects"),
    ("  serialise results", "incidents.api.serializers:story_items"),
    ("  render JSON", "incidents.api.renderers:KBJSONRenderer.render"),
]


def _install_timers(totals: dict[str, float]) -> list:
    """Wrap each SPLIT function (in its class, or wherever a module holds the same function
    object, so `from x import f` users are timed too). Returns the undo list."""
    import functools
    import importlib

    undo = []
    for label, target in SPLIT:
        module_name, _, qualname = target.partition(":")
        try:
            owner = importlib.import_module(module_name)
            *path, name = qualname.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, name)
        except (ImportError, AttributeError):
            continue  # moved or renamed: left out of the split
        depth = [0]

        def timed(*args, __f=original, __label=label, __depth=depth, **kwargs):
            if __depth[0]:
                return __f(*args, **kwargs)
            __depth[0] += 1
            started = time.perf_counter()
            try:
                return __f(*args, **kwargs)
            finally:
                totals[__label] = totals.get(__label, 0.0) + time.perf_counter() - started
                __depth[0] -= 1

        wrapper = functools.wraps(original)(timed)
        for holder in [owner] if path else _holders(name, original):
            setattr(holder, name, wrapper)
            undo.append((holder, name, original))
    return undo


def _holders(name: str, function) -> list:
    """Modules whose global `name` is `function` (or one of our wrappers of it)."""
    return [
        m
        for m in list(sys.modules.values())
        if m is not None
        and (getattr(m, "__dict__", {}).get(name) is function
             or getattr(m.__dict__.get(name), "__wrapped__", None) is function)
    ]  # fmt: skip


def profile_split(env: dict[str, str], n: int) -> None:
    """Serve `n` requests of each endpoint in this process with timers on and print the split."""
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
    print(f"\nwhere the time goes (in process, {n} requests each; ms per request):")
    for kind, urls in paths.items():
        for url in urls * 3:  # warm up: imports, caches, index readers
            client.get(url)
        totals: dict[str, float] = {}
        undo = _install_timers(totals)
        try:
            started = time.perf_counter()
            for i in range(n):
                response = client.get(urls[i % len(urls)])
            elapsed = (time.perf_counter() - started) / n * 1000
        finally:
            for holder, name, original in reversed(undo):
                setattr(holder, name, original)
                for module in _holders(name, original):  # imported while wrapped
                    setattr(module, name, original)
        assert response.status_code == 200, response.status_code
        ms = {label: t / n * 1000 for label, t in totals.items()}
        whole = ms.get(SPLIT[0][0], elapsed)
        print(f"  {kind}: {elapsed:.2f} ms per request through the test client")
        for label, _ in SPLIT:
            if label in ms:
                print(f"    {label:40} {ms[label]:7.2f} ms  {ms[label] / whole:5.0%}")
        outside = whole - ms.get("DRF view (dispatch)", 0.0)
        print(f"    {'middleware, routing, response':40} {outside:7.2f} ms  {outside / whole:5.0%}")


def worker_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by the gunicorn workers of `master`: a measure of
    the server's cost per request that other load on the machine does not inflate much."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON, "-m", "gunicorn", "kb.wsgi", "-b", f"127.0.0.1:{port}",
            "-w", str(workers), "-k", "sync", "--log-level", "warning",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip


def measure(runs: list[tuple[str, subprocess.Popen, int, str]], args) -> dict[str, dict]:
    """Load each (name, server, port, endpoint) in turn for seconds / rounds, `rounds` times
    over, and sum each one's requests, time and workers' CPU. Taking turns keeps a machine whose
    speed drifts from one minute to the next (a shared VM) from favouring whichever endpoint
    ran in its faster minute; each round's ratios are printed too."""
    latencies: dict[str, list[float]] = {name: [] for name, *_ in runs}
    elapsed = dict.fromkeys(latencies, 0.0)
    cpu = dict.fromkeys(latencies, 0.0)
    per_round: list[dict[str, float]] = []
    for _ in range(args.rounds):
        rps = {}
        for name, server, port, kind in runs:
            before = worker_cpu_seconds(server.pid)
            got, took = load(port, kind, args.seconds / args.rounds, args.clients)
            cpu[name] += worker_cpu_seconds(server.pid) - before
            latencies[name] += got
            elapsed[name] += took
            rps[name] = len(got) / took
        per_round.append(rps)
    out: dict[str, dict] = {}
    for name in latencies:
        result = summary(latencies[name], elapsed[name])
        result["cpu_ms"] = cpu[name] / max(1, result["requests"]) * 1000
        out[name] = result
    out["rounds"] = per_round  # type: ignore[assignment]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="per endpoint, all rounds")
    parser.add_argument(
        "--rounds", type=int, default=5, help="turns the endpoints take within --seconds"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chat-requests", type=int, default=200)
    parser.add_argument("--redis", default="", help="REDIS_URL for the cache and rate limits")
    parser.add_argument(
        "--profile", type=int, default=200, help="requests per endpoint timed in process (0: skip)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kb-api-bench-"))
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
    print(f"preparing database and index in {tmp} ...", flush=True)
    prepare(env)
    # The production set-up (Redis) when --redis is given, and the same site with its counters
    # in the database next to it, so the two trivial figures come from the same run.
    setups = {"redis": {**env, "REDIS_URL": args.redis}} if args.redis else {}
    setups["database"] = env
    servers = {}
    try:
        for name, setup_env in setups.items():
            port = free_port()
            servers[name] = (serve(setup_env, port, args.workers), port)
            wait_ready(port)
        for _server, port in servers.values():  # warm up (imports, caches, index readers)
            for kind in ("trivial", "search"):
                load(port, kind, 1, args.clients)
        main_name = next(iter(servers))
        server, port = servers[main_name]
        runs = [("trivial", server, port, "trivial"), ("search", server, port, "search")]
        if main_name != "database":
            runs.append(("db_trivial", *servers["database"], "trivial"))
        measured = measure(runs, args)
        trivial, search = measured["trivial"], measured["search"]
        db_trivial = measured.get("db_trivial")
        chat = chat_latency(port, args.chat_requests)
        if args.profile:
            profile_split(setups[main_name], args.profile)
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    store = "redis" if args.redis else "the database"
    print(
        f"\ngunicorn {args.workers} sync workers, {args.clients} client processes, "
        f"{args.seconds:g}s per endpoint in {args.rounds} turns, rate-limit counters in {store}"
    )
    rows = [("trivial GET /api/v1/", trivial), ("search GET /api/v1/stories/?q=", search)]
    if db_trivial:
        rows.append(("trivial, counters in database", db_trivial))
    for name, r in rows:
        print(
            f"{name:32} {r['rps']:8.0f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms"
            f"   server CPU {r['cpu_ms']:5.2f} ms/req   ({r['requests']} requests)"
        )
    ratio = search["rps"] / trivial["rps"]
    cpu_ratio = trivial["cpu_ms"] / search["cpu_ms"]
    rounds = measured["rounds"]
    print(
        "search/trivial by turn: "
        + ", ".join(f"{r['search'] / r['trivial']:.0%}" for r in rounds)
        + (
            "; database/redis counters by turn: "
            + ", ".join(f"{r['db_trivial'] / r['trivial']:.0%}" for r in rounds)
            if db_trivial
            else ""
        )
    )
    print(
        f"search/trivial throughput ratio: {ratio:.0%} (target >= 40%); "
        f"by server CPU per request: {cpu_ratio:.0%}"
    )
    if db_trivial:
        print(
            f"trivial, database counters / redis: {db_trivial['rps'] / trivial['rps']:.0%} "
            f"(target >= 70%); by server CPU per request: "
            f"{trivial['cpu_ms'] / db_trivial['cpu_ms']:.0%}"
        )
    print(
        f"chat POST /chat/slack/ (1 client): p50 {chat['p50']:.1f} ms   p99 {chat['p99']:.1f} ms"
        f"   (target p99 < 500 ms)"
    )


if __name__ == "__main__":
    main()
