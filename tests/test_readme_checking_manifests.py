"""README "Checking manifests": every command shown works as typed after `make setup`.

Each line of the section's shell blocks runs through bash from a copy of the repository's
layout, in an environment that sets nothing (no DEBUG, no SECRET_KEY, no Django settings).
`.venv/bin/kbcheck` there runs this tree's `incidents.rules.cli:main`, the entry point
pyproject.toml declares (tests/rules/test_kbcheck_cli.py checks the declaration), so the test
runs the code under test even when the venv's installed copy points elsewhere.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def section_commands(title: str = "Checking manifests") -> list[str]:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"README has no section {title!r}"
    blocks = re.findall(r"^```(?:sh|bash|console)\n(.*?)^```", match.group(1), re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


COMMANDS = section_commands()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The repository's files as `make setup` leaves them, with `.venv/bin/kbcheck`."""
    where = tmp_path_factory.mktemp("checkout")
    for name in ("deploy", "tests", "incidents", "docs"):
        (where / name).symlink_to(ROOT / name)
    bin_dir = where / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "kbcheck"
    script.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} "
        '-c "import sys; from incidents.rules.cli import main; sys.exit(main())" "$@"\n'
    )
    script.chmod(0o755)
    return where


def test_the_section_shows_kbcheck_commands():
    assert len(COMMANDS) >= 4
    assert all(".venv/bin/kbcheck" in command for command in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_works_as_typed(command, checkout):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(checkout)}
    result = subprocess.run(
        ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, timeout=60
    )
    # 0 clean, 1 findings: both are the command working; 2 would be a usage or input error.
    assert result.returncode in (0, 1), result.stderr.decode()
    assert result.stderr == b""
    redirect = re.search(r">\s*(\S+)", command)
    output = (checkout / redirect.group(1)).read_bytes() if redirect else result.stdout
    assert output.strip()
