"""The hand-labelled sample bench/realworld.py measures precision with stays usable."""

from __future__ import annotations

from pathlib import Path

import yaml

LABELS = Path(__file__).parent / "realworld_labels.yaml"


def test_every_label_names_a_finding_and_gives_a_verdict_with_a_reason():
    labels = yaml.safe_load(LABELS.read_text())["labels"]
    assert len(labels) >= 60
    keys = set()
    for label in labels:
        assert set(label) == {"file", "rule", "object", "path", "verdict", "reason"}, label
        assert label["verdict"] in ("true", "false", "debatable"), label
        assert len(label["reason"]) > 20, label
        key = (label["file"], label["rule"], label["object"], label["path"])
        assert key not in keys, f"labelled twice: {key}"
        keys.add(key)
