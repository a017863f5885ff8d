"""Helpers for the deployment tests: the manifests, the image recipe, the documented env."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

_ENV_CALL = re.compile(r"\benv(?:bool|int|list|choice)?\(\s*\"([A-Z][A-Z0-9_]*)\"")
_OS_ENVIRON = re.compile(r"os\.environ(?:\.get\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def settings_variables() -> set[str]:
    """Every environment variable kb/settings.py reads (through its env helpers)."""
    return set(_ENV_CALL.findall((ROOT / "kb" / "settings.py").read_text()))


def gunicorn_variables() -> set[str]:
    text = (ROOT / "kb" / "gunicorn.conf.py").read_text()
    return set(_OS_ENVIRON.findall(text)) | set(re.findall(r'_int\("([A-Z_]+)"', text))


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def load_manifests() -> list[dict]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def one(manifests: list[dict], kind: str, name: str | None = None) -> dict:
    found = [
        m
        for m in manifests
        if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]
