"""Every command the README shows works as typed in a fresh shell after `make setup`.

A scratch copy of the checkout (the code, the data, the Makefile; the shared virtualenv linked as
`.venv`) gets `make setup`, then each command of the README runs there through `sh -c` with an
environment a new terminal would have: no DEBUG, SECRET_KEY, KB_TESTING or DATABASE_URL. Commands
that cannot run here (servers, a cluster, a PostgreSQL server, the test suite itself) are listed
in SKIPPED with the reason; a README command that is neither run nor listed fails the test, so a
new command gets a decision instead of going untested.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
COPIED = ["manage.py", "Makefile", "pyproject.toml", "README.md", "kb", "incidents", "templates"]
COPIED += ["static", "schema", "deploy", "tests/rules"]  # the kbcheck examples read tests/rules
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
# An inline `code` span is a command when it starts like one, with an argument (after optional
# NAME=value words): `make setup` is a command, the word `python` in a sentence is not.
INLINE_COMMAND = re.compile(
    r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*"
    r"(?:\.venv/bin/\S+|python3?|make|docker|kubectl|helm|curl|pg_dump|pg_restore|createdb"
    r"|sqlite3|kbcheck)\s+\S"
)
SKIPPED = [
    (r"^make (run|serve)\b|\bmake serve$", "starts a server that runs until it is stopped"),
    (r"^make test\b", "runs the test suite this test belongs to"),
    (r"\bcurl\b", "talks to a running server (`make run`)"),
    (r"\bkubectl\b", "needs a Kubernetes cluster"),
    (r"^deploy/snapshot\.sh\b", "reads a live cluster through kubectl"),
    (r"^kbcheck\b", "names a kbcheck option in prose; the .venv/bin/kbcheck examples run"),
    (r"--cluster-snapshot\b", "reads the directory deploy/snapshot.sh writes from a live cluster"),
    (r"\bhelm\b", "needs helm and a chart"),
    (r"^docker\b", "builds the container image: minutes, and a container engine"),
    (r"\b(pg_dump|pg_restore|createdb)\b", "needs the PostgreSQL server and database it names"),
    (
        r"^DATABASE_URL=postgres",
        "needs the PostgreSQL server in the URL (the PostgreSQL test run covers that database)",
    ),
]
# Placeholders the README uses, and what stands in for them here.
PLACEHOLDERS = {r"\bDIR\b": "exported"}
PASSWORD = "correct-horse-battery-42"
FORBIDDEN = ["Traceback", "SECRET_KEY is required", "Error:"]
WARNINGS = ["WARNINGS:", "System check identified some issues"]


@dataclass
class Checkout:
    path: Path
    env: dict[str, str]
    setup_output: str
    setup_returncode: int


def readme_commands(text: str) -> list[str]:
    """The README's shell commands in order: fenced sh lines (comments dropped, backslash
    continuations joined) and inline `code` spans that start like a command (outside tables)."""
    commands: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    pending = ""
    for line in text.splitlines():
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
            continue
        if fence is None:
            if not line.lstrip().startswith("|"):
                prose.append(line)
            continue
        if fence not in SHELL_LANGUAGES:
            continue
        line = re.sub(r"(^|\s)#.*$", "", line).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        command = " ".join((pending + line).split())
        pending = ""
        if command:
            commands.append(command)
    for span in re.findall(r"`([^`]+)`", "\n".join(prose)):
        span = " ".join(span.split())
        if INLINE_COMMAND.match(span):
            commands.append(span)
    return commands


def skip_reason(command: str) -> str | None:
    return next((why for pattern, why in SKIPPED if re.search(pattern, command)), None)


def fresh_shell_env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }


def run_in_terminal(command: str, cwd: Path, env: dict[str, str], answers: list[tuple[str, str]]):
    """Run `command` on a pseudo-terminal (createsuperuser prompts only on one), typing each
    answer when its prompt appears. Returns (exit code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command (never return into pytest)
        try:
            os.chdir(cwd)
            os.execve("/bin/sh", ["sh", "-c", command], env)
        finally:
            os._exit(127)
    output, seen, pending = b"", 0, list(answers)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the command exited and closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if pending and pending[0][0].encode() in output[seen:]:
                os.write(fd, pending.pop(0)[1].encode() + b"\n")
                seen = len(output)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Checkout:
    """A scratch checkout after `make setup`, run from a fresh shell. The virtualenv is this
    one (linked, and `-o` keeps make from reinstalling it: it is shared)."""
    path = tmp_path_factory.mktemp("checkout")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, path / name, ignore=ignore)  # makes tests/ for tests/rules
        else:
            shutil.copy2(source, path / name)
    (path / ".venv").symlink_to(Path(sys.prefix))
    # Files the README's examples name: a manifest and a saved copy of the k8s.af list.
    shutil.copy2(ROOT / "tests/fixtures/k8s-af-2020-README.md", path / "k8s-af-README.md")
    (path / "app.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
        "spec: {containers: [{name: web, image: 'nginx:1.27'}]}\n"
    )
    home = tmp_path_factory.mktemp("home")
    env = fresh_shell_env(home)
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "setup"],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Checkout(path, env, result.stdout + result.stderr, result.returncode)


def test_make_setup_prints_progress_and_no_expected_warning(checkout):
    output = checkout.setup_output
    assert checkout.setup_returncode == 0, output
    for step in range(1, 6):
        assert f"setup {step}/5:" in output
    assert "setup: wrote .env" in output
    assert "System check identified no issues" in output
    for bad in ["WARNING", "W001", "does not exist", "Traceback"]:
        assert bad not in output, output


def test_make_setup_writes_a_private_env_file_with_debug_and_a_key(checkout):
    env_file = checkout.path / ".env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    text = env_file.read_text()
    assert "DEBUG=true" in text.splitlines()
    assert re.search(r"^SECRET_KEY=\S{50,}$", text, re.M)


def test_the_readme_states_the_number_of_curated_stories():
    stated = re.findall(r"(\d+) curated stories", README.read_text())
    assert stated, "the README says how many curated stories there are"
    files = len(list((ROOT / "incidents/data/stories").glob("*.md")))
    assert {int(n) for n in stated} == {files}


def test_every_readme_command_runs_as_typed_in_a_fresh_shell(checkout):
    assert checkout.setup_returncode == 0, checkout.setup_output
    commands = readme_commands(README.read_text())
    assert len(commands) > 20  # the extraction found the README's commands
    values: dict[str, str] = {}
    ran, skipped, failures = [], [], []
    for command in commands:
        reason = skip_reason(command)
        if reason:
            skipped.append(f"{command}  [{reason}]")
            continue
        if command == "make setup":  # the fixture ran it
            ran.append(command)
            continue
        typed = command
        for pattern, value in {**PLACEHOLDERS, **values}.items():
            typed = re.sub(pattern, value, typed)
        if not typed.startswith((".venv/bin/", "sqlite3 ")):
            failures.append(f"{command}: neither run nor skipped; add a reason to SKIPPED")
            continue
        if typed.endswith("manage.py createsuperuser"):
            answers = [
                ("Username", "alice"),
                ("Email address", "alice@example.com"),
                ("Password:", PASSWORD),
                ("Password (again)", PASSWORD),
            ]
            code, output = run_in_terminal(typed, checkout.path, checkout.env, answers)
            if "Superuser created successfully" not in output:
                failures.append(f"{command}: {output[-2000:]}")
            ran.append(command)
            continue
        result = subprocess.run(
            ["sh", "-c", typed],
            cwd=checkout.path,
            env=checkout.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        code, output = result.returncode, result.stdout + result.stderr
        ran.append(command)
        created = re.search(r"Created token (\w+)", output)
        if created:
            values[r"<prefix>"] = created[1]
        # kbcheck exits 1 when it has findings: that is the command working.
        allowed = {0, 1} if "kbcheck" in typed and "--fail-on" not in typed else {0}
        bad = [word for word in FORBIDDEN if word in output]
        if "check --deploy" not in typed:  # its job is to list what is not production-grade
            bad += [word for word in WARNINGS if word in output]
        if code not in allowed or bad:
            failures.append(f"{command}: exit {code} {bad}\n{output[-2000:]}")
    print("ran:", *ran, "skipped:", *skipped, sep="\n  ")
    assert not failures, "\n\n".join(failures)
    assert any("createsuperuser" in c for c in ran)
