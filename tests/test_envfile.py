"""The local development .env: `make setup` writes it, settings read it, production ignores it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kb import envfile

ROOT = Path(__file__).resolve().parents[1]
CODE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DEBUG, settings.SECRET_KEY)"
)


def _plain_shell_settings(env_file: Path | str, **env: str) -> subprocess.CompletedProcess:
    """Load the settings as a command typed in a fresh shell would: none of DEBUG, SECRET_KEY,
    KB_TESTING or DATABASE_URL exported."""
    dropped = {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "KB_TESTING", "DATABASE_URL"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update({"DJANGO_SETTINGS_MODULE": "kb.settings", "KB_ENV_FILE": str(env_file)})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, env=base, capture_output=True, text=True
    )


def test_a_command_in_a_plain_shell_gets_debug_and_the_key_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    assert envfile.create(env_file)
    key = envfile.parse(env_file.read_text())["SECRET_KEY"]
    result = _plain_shell_settings(env_file)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", key]


def test_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\n")
    result = _plain_shell_settings(env_file, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr
    assert "make setup" in result.stderr  # the message says how to get a development setup


def test_without_an_env_file_debug_is_off_and_a_key_is_required(tmp_path):
    result = _plain_shell_settings(tmp_path / "missing.env")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_a_malformed_env_file_stops_start_up_with_its_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nthis is not a setting\n")
    result = _plain_shell_settings(env_file)
    assert result.returncode != 0
    assert "line 2: expected NAME=value" in result.stderr


def test_create_writes_a_private_file_with_a_random_key_and_never_overwrites(tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert envfile.create(first) and envfile.create(second)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    values = envfile.parse(first.read_text())
    assert values["DEBUG"] == "true"
    assert len(values["SECRET_KEY"]) >= 50
    assert values["SECRET_KEY"] != envfile.parse(second.read_text())["SECRET_KEY"]
    before = first.read_text()
    assert not envfile.create(first)  # re-running `make setup` keeps the key (and sessions)
    assert first.read_text() == before


def test_parse_reads_quotes_comments_and_export():
    text = "# comment\n\nexport A=1\nB = 'two words'\nC=\"x=y\"\nD=\n"
    assert envfile.parse(text) == {"A": "1", "B": "two words", "C": "x=y", "D": ""}


def test_load_keeps_variables_already_set_and_a_missing_file_sets_nothing(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nSECRET_KEY=from-file\n")
    environ = {"DEBUG": "false", "SECRET_KEY": ""}
    assert envfile.load(env_file, environ) == []
    assert environ == {"DEBUG": "false", "SECRET_KEY": ""}
    environ = {}
    assert envfile.load(env_file, environ) == ["DEBUG", "SECRET_KEY"]
    assert envfile.load(tmp_path / "missing.env", environ) == []


@pytest.mark.parametrize("ignore_file", [".gitignore", ".dockerignore"])
def test_the_env_file_is_never_committed_nor_copied_into_the_image(ignore_file):
    assert ".env" in (ROOT / ignore_file).read_text().splitlines()


def test_setup_records_the_database_it_ran_on_for_the_commands_typed_after_it(tmp_path):
    env_file = tmp_path / ".env"
    done = envfile.update(env_file, {"DATABASE_URL": "postgres://kb@db:5432/kb"})
    assert [line.split()[0] for line in done] == ["wrote", "recorded"]
    key = envfile.parse(env_file.read_text())["SECRET_KEY"]
    assert envfile.update(env_file, {"DATABASE_URL": "postgres://kb@db:5432/kb"}) == []
    envfile.update(env_file, {"DATABASE_URL": "postgres://kb@other:5432/kb", "HOME": "/root"})
    values = envfile.parse(env_file.read_text())
    assert values == {
        "DEBUG": "true",
        "SECRET_KEY": key,
        "DATABASE_URL": "postgres://kb@other:5432/kb",
    }
    assert env_file.read_text().startswith("# Local development settings")  # comments kept
