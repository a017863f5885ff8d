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
