"""deploy/snapshot.sh writes what load_snapshot reads, and never asks for Secrets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from incidents.exposure.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "snapshot.sh"
FIXTURE = ROOT / "tests" / "fixtures" / "cluster-snapshot"

# A stand-in kubectl: answers each command the script runs from the synthetic snapshot and
# records the arguments, so the test sees exactly what the script would ask a cluster for.
FAKE_KUBECTL = """#!/bin/sh
echo "$@" >> "$KUBECTL_LOG"
case "$*" in
  "version -o json") cat "$FIXTURE/version.json" ;;
  "get --raw /version") cat "$FIXTURE/version-raw.json" ;;
  "get nodes -o json") cat "$FIXTURE/nodes.json" ;;
  get\\ pods,*) cat "$FIXTURE/objects.json" ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
"""


def test_the_script_collects_a_snapshot_without_secrets(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    log = tmp_path / "kubectl.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FIXTURE": str(FIXTURE),
        "KUBECTL_LOG": str(log),
    }
    out = tmp_path / "snap"
    subprocess.run(["sh", str(SCRIPT), str(out)], check=True, env=env, capture_output=True)
    asked = log.read_text()
    assert "secret" not in asked.lower()
    files = sorted(out.glob("*.json"))
    assert [f.name for f in files] == [
        "nodes.json",
        "objects.json",
        "version-raw.json",
        "version.json",
    ]
    snapshot = load_snapshot([(f.name, f.read_bytes()) for f in files])
    assert snapshot.errors == []
    assert snapshot.server_version is not None
    assert len(snapshot.nodes) == 5
