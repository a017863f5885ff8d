"""The reliability suite's machinery: a site (database, index, curator token) and gunicorn
servers on loopback, plus a small HTTP client. Everything is bounded: every wait has a deadline,
every process is stopped (its whole process group) when the test ends.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("KB_RELIABILITY_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("KB_RELIABILITY_REDIS", "redis://127.0.0.1:6379/11")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


def request(
    base: str,
    method: str,
    path: str,
    *,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on a fresh connection. Network errors raise OSError (callers decide)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    if isinstance(body, str):
        body = body.encode()
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            time.perf_counter() - started,
        )
    finally:
        conn.close()


# --- Sites: a database with the curated data, an index, a curator token ----------------------


@dataclass
class Site:
    kind: str  # "sqlite" | "postgres"
    env: dict[str, str]
    tmp: Path
    token: str = ""
    cleanups: list = field(default_factory=list)

    def manage(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result.stdout

    def python(self, code: str, timeout: float = 120) -> str:
        """Run Django code against this site's database (e.g. to inspect it); returns stdout."""
        script = "import django; django.setup()\n" + code
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"python:\n{code}\n{result.stdout}{result.stderr}")
        return result.stdout

    def index_report(self) -> dict:
        out = self.python(
            "import json; from incidents import search\n"
            "r = search.check_index(fix=False)\n"
            "print(json.dumps({'ok': r.ok, 'stories': r.stories, 'missing': r.missing,"
            " 'stale': r.stale, 'orphaned': r.orphaned}))"
        )
        return json.loads(out.strip().splitlines()[-1])


def _base_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KB_", "DATABASE_", "REDIS", "GUNICORN_", "PYTEST", "DJANGO_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kb.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,kb.test",
            "KB_VAR_DIR": str(tmp / "var"),
            "KB_SEARCH_INDEX_DIR": str(tmp / "var" / "search"),
            "LOG_LEVEL": "warning",
            "KB_API_THROTTLE_ANON": "1000000/minute",
            "KB_API_THROTTLE_TOKEN": "1000000/minute",
            "CACHE_KEY_PREFIX": f"kbrel{uuid.uuid4().hex[:8]}",
            "SLACK_SIGNING_SECRET": "reliability-slack-secret",
        }
    )
    return env


def _psql(url: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


_TEMPLATES: dict[tuple[str, str], tuple[Path, str, str]] = {}
_TEMPLATE_CLEANUPS: list = []


def _build(kind: str, tmp: Path, env: dict[str, str], pg_url: str) -> Site:
    """Migrate, load the curated stories, sync rules, build the index, create a curator."""
    the_site = Site(kind=kind, env=env, tmp=tmp)
    the_site.manage("migrate", "--noinput", "-v0")
    the_site.manage("createcachetable")
    the_site.manage("collectstatic", "--noinput", "-v0")  # pages need the manifest (DEBUG off)
    the_site.manage("sync_rules")
    the_site.manage("load_stories")
    the_site.manage("rebuild_search_index")
    the_site.python(
        "from django.contrib.auth.models import Permission, User\n"
        "u = User.objects.create_user('curator', password='pw-curator-123', is_staff=True)\n"
        "u.user_permissions.set(Permission.objects.filter("
        "content_type__app_label='incidents'))\n"
    )
    the_site.token = the_site.manage(
        "manage_api_tokens", "create", "--user", "curator", "--name", "reliability"
    ).strip()
    return the_site


def _template(kind: str, pg_url: str) -> tuple[Path, str, str]:
    """Built once per test session: (var dir, database name, token), copied by each site."""
    key = (kind, pg_url)
    if key not in _TEMPLATES:
        tmp = Path(tempfile.mkdtemp(prefix=f"kb-rel-template-{kind}-"))
        _TEMPLATE_CLEANUPS.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
        env = _base_env(tmp)
        name = ""
        if kind == "postgres":
            name = f"kb_rel_tpl_{uuid.uuid4().hex[:10]}"
            _psql(f"{pg_url}/postgres", f"CREATE DATABASE {name}")
            _TEMPLATE_CLEANUPS.append(
                lambda: _psql(f"{pg_url}/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            )
            env.update(_pg_env(pg_url, name))
        built = _build(kind, tmp, env, pg_url)
        _TEMPLATES[key] = (tmp / "var", name, built.token)
    return _TEMPLATES[key]


def drop_templates() -> None:
    for cleanup in reversed(_TEMPLATE_CLEANUPS):
        with contextlib.suppress(Exception):
            cleanup()
    _TEMPLATE_CLEANUPS.clear()
    _TEMPLATES.clear()


def _pg_env(pg_url: str, name: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"{pg_url}/{name}",
        "KB_SEARCH_BACKEND": "postgres",
        "REDIS_URL": REDIS_BASE,
        "DB_CONN_MAX_AGE": "60",
    }


@contextlib.contextmanager
def site(kind: str, tmp: Path, *, pg_url: str = PG_URL, **extra_env: str) -> Iterator[Site]:
    """A ready site: migrated, curated stories loaded, rules synced, the search index built,
    and a curator with an API token; copied from a per-session template. PostgreSQL sites use
    a scratch database (dropped afterwards), the PostgreSQL search backend and Redis."""
    tmp.mkdir(parents=True, exist_ok=True)
    var, template_db, token = _template(kind, pg_url)
    env = _base_env(tmp)
    the_site = Site(kind=kind, env=env, tmp=tmp, token=token)
    shutil.copytree(var, tmp / "var")
    if kind == "postgres":
        name = f"kb_rel_{uuid.uuid4().hex[:10]}"
        _psql(f"{pg_url}/postgres", f"CREATE DATABASE {name} TEMPLATE {template_db}")
        the_site.cleanups.append(
            lambda: _psql(f"{pg_url}/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        )
        env.update(_pg_env(pg_url, name))
    env.update(extra_env)
    try:
        yield the_site
    finally:
        for cleanup in reversed(the_site.cleanups):
            with contextlib.suppress(Exception):
                cleanup()


# --- gunicorn ---------------------------------------------------------------------------------


class Server:
    """gunicorn serving a site on 127.0.0.1:<free port>, in its own process group."""

    def __init__(self, site: Site, *, workers: int = 2, threads: int = 4, **extra_env: str):
        self.site = site
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = site.tmp / f"gunicorn-{self.port}.log"
        env = dict(site.env)
        env.update(
            {
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": str(workers),
                "GUNICORN_THREADS": str(threads),
                "GUNICORN_TIMEOUT": "60",
                "GUNICORN_GRACEFUL_TIMEOUT": "5",
            }
        )
        env.update(extra_env)
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "kb/gunicorn.conf.py", "kb.wsgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 30) -> None:
        def up():
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log_text()[-3000:]}")
            try:
                return request(self.base, "GET", "/healthz", timeout=2).status == 200
            except OSError:
                return False

        wait_for(up, timeout=timeout, what=f"gunicorn on {self.base}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()]

    def rss_kib(self) -> int:
        """Resident memory of the master and its workers, KiB."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total

    def memory_kib(self) -> dict[int, tuple[int, int]]:
        """Each worker's (current RSS, peak RSS since the last `reset_peaks`), KiB."""
        found = {}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
                fields = dict(line.split(":", 1) for line in lines)
                found[pid] = (int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))
        return found

    def reset_peaks(self) -> None:
        """Start each worker's peak RSS (VmHWM) afresh at its current RSS (Linux clear_refs)."""
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers in the group


# --- Curator edits through the API -------------------------------------------------------------


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def edit_story(base: str, token: str, slug: str, marker: str) -> tuple[int, int | None]:
    """GET the story, PATCH its `fix` with a marker under If-Match. Returns (status, version)."""
    got = request(base, "GET", f"/api/v1/stories/{slug}/", headers=auth(token))
    if got.status != 200:
        return got.status, None
    story = got.json()
    fix = story["fix"]["markdown"] if isinstance(story["fix"], dict) else story["fix"]
    fix = fix.split("\n\nEdit marker:")[0] + f"\n\nEdit marker: {marker}"
    reply = request(
        base,
        "PATCH",
        f"/api/v1/stories/{slug}/",
        body=json.dumps({"fix": fix}),
        headers={
            **auth(token),
            "Content-Type": "application/json",
            "If-Match": got.headers["etag"],
        },
    )
    version = reply.json().get("version") if reply.status == 200 else None
    return reply.status, version


def curator_process(base: str, token: str, slugs: list[str], name: str, edits: int) -> list:
    """One curator: `edits` edits round-robin over `slugs`. Returns [(slug, status, version,
    marker)]. Network errors are recorded as status 0 (they count as failures in the tests)."""
    results = []
    for i in range(edits):
        slug = slugs[i % len(slugs)]
        marker = f"{name}x{i}"
        try:
            status, version = edit_story(base, token, slug, marker)
        except OSError:
            status, version = 0, None
        results.append((slug, status, version, marker))
    return results


def private_postgres() -> tuple[str, Callable[[], None], Callable[[], None]]:
    """A throwaway PostgreSQL cluster on a free port (so restarting it disturbs nobody else on
    this machine). Returns (url, restart, stop); stop also deletes it."""
    # Directly under /tmp: the postgres user must reach it (pytest's directories are 0700).
    home = Path(tempfile.mkdtemp(prefix="kb-rel-pg-"))
    home.chmod(0o755)
    data = home / "pgdata"
    data.mkdir()
    port = free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = data / "server.log"

    def ctl(*args: str) -> None:
        subprocess.run(
            [*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
             "-t", "60", "-o", options, *args],
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip

    def stop() -> None:
        with contextlib.suppress(Exception):
            ctl("stop", "-m", "immediate")
        shutil.rmtree(home, ignore_errors=True)

    ctl("start")
    return f"postgres://postgres@127.0.0.1:{port}", lambda: ctl("restart", "-m", "fast"), stop


# --- Hostile documents and signed or form requests, shared by the hostile-input tests -----------

ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
    for i in range(9)
)
DEEP_JSON = "[" * 1000 + "]" * 1000
DEEP_YAML = "a:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(1000)) + "  " * 1001 + "1\n"


def slack_signature(secret: str, timestamp: int | str, body: bytes | str) -> str:
    if isinstance(body, str):
        body = body.encode()
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def teams_signature(secret_b64: str, body: bytes) -> str:
    """The `Authorization` header Teams sends: HMAC-SHA256 keyed by the base64-decoded secret."""
    digest = hmac.new(base64.b64decode(secret_b64), body, hashlib.sha256).digest()
    return "HMAC " + base64.b64encode(digest).decode()


_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_pass(base: str, path: str) -> tuple[dict[str, str], str]:
    """What a browser holds after loading a form page: (the CSRF cookie header, the form token)."""
    page = request(base, "GET", path)
    cookie = page.headers.get("set-cookie", "").split(";", 1)[0]
    token = _CSRF_INPUT.search(page.body)
    assert cookie.startswith("csrftoken=") and token, (path, page.status)
    return {"Cookie": cookie}, token.group(1).decode()


def multipart(
    fields: dict[str, bytes], files: dict[str, tuple[str, bytes]] | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body (as a browser sends a form with a file input) and its type."""
    boundary = f"kbrel{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    for name, (filename, content) in (files or {}).items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )
