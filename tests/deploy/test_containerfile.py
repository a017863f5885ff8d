"""deploy/Containerfile, checked without a container runtime: the recipe is parsed and its final
stage rehearsed on this machine (same files, same environment, same commands)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass

import pytest

from tests.deploy.helpers import DEPLOY, ROOT


@dataclass
class Instruction:
    name: str
    args: str


def parse(text: str) -> list[list[Instruction]]:
    """Instructions grouped by stage (a new stage at each FROM); continuations joined."""
    stages: list[list[Instruction]] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        name, _, args = logical.partition(" ")
        name = name.upper()
        if name == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(Instruction(name, args.strip()))
        elif name != "ARG":
            raise AssertionError(f"{name} before the first FROM")
        logical = ""
    return stages


@pytest.fixture(scope="module")
def stages() -> list[list[Instruction]]:
    return parse((DEPLOY / "Containerfile").read_text())


def args_of(stage, name):
    return [i.args for i in stage if i.name == name]


def env_of(stage) -> dict[str, str]:
    env = {}
    for args in args_of(stage, "ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def test_the_base_image_is_a_pinned_python_the_project_supports(stages):
    text = (DEPLOY / "Containerfile").read_text()
    image = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ARG "))
    assert image.startswith("docker.io/library/python:3.1")
    assert not image.endswith(":latest")
    version = tuple(int(x) for x in image.split(":")[1].split("-")[0].split("."))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires.startswith(">=")
    minimum = tuple(int(x) for x in requires[2:].split("."))
    assert version >= minimum


def test_the_build_stage_installs_the_package_and_its_dependencies(stages):
    build = stages[0]
    copied = " ".join(args_of(build, "COPY"))
    assert "pyproject.toml" in copied and "README.md" in copied  # pyproject's readme
    assert any("pip install ." in run for run in args_of(build, "RUN"))
    final = stages[-1]
    assert any("--from=build /opt/venv /opt/venv" in c for c in args_of(final, "COPY"))
    assert env_of(final)["PATH"].startswith("/opt/venv/bin:")


def test_the_image_copies_everything_the_app_needs_at_run_time(stages):
    copied = {c.split()[0].rstrip("/") for c in args_of(stages[-1], "COPY") if "--from" not in c}
    needed = {"manage.py", "kb", "incidents", "templates", "static"}
    assert needed <= copied
    for path in copied:
        assert (ROOT / path).exists(), path


def test_it_runs_as_an_unprivileged_user(stages):
    final = stages[-1]
    users = args_of(final, "USER")
    assert users, "no USER: the container would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000  # numeric, so runAsNonRoot can verify it
    assert any(f"--uid {uid}" in run for run in args_of(final, "RUN"))
    last_user = max(i for i, instr in enumerate(final) if instr.name == "USER")
    assert all(instr.name != "RUN" for instr in final[last_user:])


def test_it_serves_with_gunicorn_and_collects_static_files(stages):
    final = stages[-1]
    command = json.loads(args_of(final, "CMD")[-1])
    assert command[0] == "gunicorn"
    assert command[command.index("--config") + 1] == "kb/gunicorn.conf.py"
    assert command[-1].startswith("kb.wsgi")
    assert any("manage.py collectstatic --noinput" in run for run in args_of(final, "RUN"))
    env = env_of(final)
    assert env["DEBUG"] == "false"
    # Static files live outside the writable data directory (a volume would hide them).
    assert not env["KB_STATIC_ROOT"].startswith(env["KB_VAR_DIR"])
    assert "8000" in args_of(final, "EXPOSE")[0]


def test_the_build_context_leaves_out_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_rehearsal_of_the_final_stage_serves_health_and_static_files(stages, tmp_path):
    """Lay out /app as the COPY lines do, run the RUN's collectstatic with the image's ENV, then
    the CMD; the result answers /healthz and serves hashed static files with long caching."""
    final = stages[-1]
    app = tmp_path / "app"
    app.mkdir()
    for copy in args_of(final, "COPY"):
        if "--from" in copy:
            continue
        source = copy.split()[0]
        if (ROOT / source).is_dir():
            shutil.copytree(
                ROOT / source, app / source, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / source, app / source)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "DATABASE_", "REDIS"))}
    image_env = env_of(final)
    image_env.pop("PATH")
    env.update(image_env)
    env.update(
        {
            "KB_VAR_DIR": str(tmp_path / "var"),
            "KB_STATIC_ROOT": str(app / "staticfiles"),
            "PYTHONPATH": str(app),
        }
    )
    collect = next(run for run in args_of(final, "RUN") if "collectstatic" in run)
    collect = collect.split("&&")[0].replace("python ", f"{sys.executable} ", 1)
    subprocess.run(collect, shell=True, cwd=app, env=env, check=True, timeout=300)
    assert (app / "staticfiles" / "staticfiles.json").exists()

    port = _free_port()
    env.update({"SECRET_KEY": "rehearsal-" + "x" * 50, "GUNICORN_BIND": f"127.0.0.1:{port}"})
    env.update({"GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2"})
    command = json.loads(args_of(final, "CMD")[-1])
    command = [sys.executable, "-m", "gunicorn", *command[1:]]
    server = subprocess.Popen(
        command, cwd=app, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
                time.sleep(0.2)
        manifest = json.loads((app / "staticfiles" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["css/base.css"]
        with urllib.request.urlopen(f"{base}/static/{hashed}", timeout=5) as response:
            assert response.status == 200
            assert "immutable" in response.headers["Cache-Control"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
