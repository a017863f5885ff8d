"""gunicorn configuration: `gunicorn -c kb/gunicorn.conf.py kb.wsgi` (what `make serve` and the
container run). Every value comes from the environment, with defaults for one small machine.

Threads (the gthread worker) let one worker overlap database and search waits; workers give
CPU parallelism and isolation (a worker killed mid-request is replaced, its transaction rolled
back by the database). Django's own request log (JSON, with timing) replaces gunicorn's access
log, so accesslog is off unless GUNICORN_ACCESS_LOG is set.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise SystemExit(f"{name}={value} must be at least {minimum}")
    return value


bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak can never take a pod down.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000, minimum=0)
max_requests_jitter = max_requests // 10
# Only these addresses may set X-Forwarded-Proto/For for gunicorn itself; Django decides what it
# trusts separately (KB_BEHIND_PROXY_TLS, KB_NUM_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Bounded request line and headers: an oversized one is refused with 400 before Django runs.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# The heartbeat file lives in memory when /dev/shm exists (containers: no disk-sync stalls).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "k8s-failure-kb"
# gunicorn 24+ opens a control socket at one fixed path per user by default, so two servers on
# one machine would fight over it. Off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
preload_app = False

# --- Search index reconciliation --------------------------------------------------------------
# Stories are indexed right after their transaction commits, in the worker that wrote them. A
# worker killed in between (SIGKILL, OOM) or a database restart at that instant leaves a committed
# story indexed at its old version. So each worker, shortly after it boots (a replacement for a
# killed worker does this too) and then every KB_RECONCILE_SECONDS, compares the index with the
# database and repairs any difference (search.check_index(fix=True)); repairs are idempotent. For
# the periodic round a lease in the shared cache (Redis or the database cache) picks one worker
# of all servers.
reconcile_seconds = _int("KB_RECONCILE_SECONDS", 300, minimum=0)


def post_worker_init(worker) -> None:
    if reconcile_seconds:
        import threading

        threading.Thread(
            target=_reconcile_loop, args=(worker.log,), name="kb-reconcile", daemon=True
        ).start()


def _reconcile_loop(log) -> None:
    import random
    import time

    time.sleep(random.uniform(0.5, 2.0))  # serve first; spread workers booting together
    # No lease at boot: a worker replacing a killed one must look, whoever looked just before.
    _reconcile_once(log, lease_key=None, lease_seconds=0)
    while True:
        time.sleep(reconcile_seconds * random.uniform(0.9, 1.1))
        _reconcile_once(log, lease_key="kb:reconcile:periodic", lease_seconds=reconcile_seconds)


def _reconcile_once(log, *, lease_key: str | None, lease_seconds: int) -> None:
    from django.core.cache import cache
    from django.db import close_old_connections, connection

    try:
        if lease_key and not cache.add(lease_key, os.getpid(), timeout=lease_seconds):
            return
        from incidents import search

        report = search.check_index(fix=True)
        if not report.ok:
            log.warning(
                "search index reconciled: %d missing, %d stale, %d orphaned",
                len(report.missing),
                len(report.stale),
                len(report.orphaned),
            )
    except Exception:  # the next round tries again; never take the worker down
        log.exception("search index reconciliation failed")
    finally:
        close_old_connections()
        connection.close()
