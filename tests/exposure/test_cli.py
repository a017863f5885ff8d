"""`kbcheck --cluster-snapshot DIR`: the exposure report without Django or a database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "fixtures" / "cluster-snapshot"


def kbcheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "incidents.rules.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},  # no DJANGO_SETTINGS_MODULE, no SECRET_KEY, nothing
    )


def test_it_prints_the_report_and_exits_1_when_a_story_could_happen():
    result = kbcheck("--cluster-snapshot", str(SNAPSHOT), "--site-url", "https://kb.example")
    assert result.returncode == 1, result.stderr
    assert "Cluster snapshot: Kubernetes v1.27.7-eks-4f4795d, 5 nodes" in result.stdout
    assert "https://kb.example/stories/circleci-delays-starting-jobs/" in result.stdout


def test_json_lists_published_stories_without_conditions():
    result = kbcheck("--cluster-snapshot", str(SNAPSHOT), "--format", "json")
    data = json.loads(result.stdout)
    assert data["summary"]["exposed"] >= 1
    assert data["no_known_conditions"]
    assert all(not s.startswith("circleci") for s in data["no_known_conditions"])


def test_an_unreadable_snapshot_is_exit_2_with_a_message(tmp_path):
    (tmp_path / "nodes.json").write_text('{"kind": "List", "items": [')
    result = kbcheck("--cluster-snapshot", str(tmp_path))
    assert result.returncode == 2
    assert "nodes.json" in result.stdout
    missing = kbcheck("--cluster-snapshot", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "no such file or directory" in missing.stderr
