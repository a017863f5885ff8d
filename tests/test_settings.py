"""Settings fail loudly on bad values and need none to run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KB_TESTING"}}
    base.update({"DJANGO_SETTINGS_MODULE": "kb.settings", "KB_VAR_DIR": str(ROOT / "var")})
    base.update(env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True
    )


def test_secret_key_is_required_when_debug_is_off():
    result = _load_settings({"DEBUG": "false", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_debug_runs_with_no_configuration():
    result = _load_settings({"DEBUG": "true", "SECRET_KEY": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_a_bad_boolean_fails_loudly():
    result = _load_settings({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_a_bad_database_url_fails_loudly():
    result = _load_settings({"DEBUG": "true", "DATABASE_URL": "nosuchscheme://x"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_a_bad_rate_fails_loudly():
    result = _load_settings({"DEBUG": "true", "KB_WEB_CHECK_THROTTLE": "lots"})
    assert result.returncode != 0
    assert "KB_WEB_CHECK_THROTTLE='lots' is not a rate" in result.stderr
