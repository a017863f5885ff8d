"""The curated exposure conditions: well-formed, sourced, and about stories that exist."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from incidents.exposure.conditions import (
    DATA_FILE,
    ConditionError,
    load_exposures,
    parse_exposures,
)
from incidents.rules.registry import REGISTRY

STORIES = Path(__file__).resolve().parents[2] / "incidents" / "data" / "stories"


def test_the_curated_file_loads_and_names_real_stories_and_rules():
    exposures = load_exposures()
    slugs = {p.stem for p in STORIES.glob("*.md")}
    assert set(exposures) <= slugs
    rules = {r.id for r in REGISTRY.manifest_rules()}
    for exposure in exposures.values():
        for condition in exposure.conditions:
            assert condition.sources
            assert condition.kind != "rule" or condition.rule in rules


def test_at_least_twenty_stories_have_conditions():
    assert len(load_exposures()) >= 20


def test_version_conditions_cite_upstream_sources_not_only_the_story():
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    for slug, entry in data["stories"].items():
        for condition in entry["conditions"]:
            if condition.get("fixed_in"):
                upstream = [s for s in condition["sources"] if s != "story"]
                assert upstream, f"{slug}: a fixed_in needs a release note, commit or issue"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"rule": "KB999", "why": "x", "sources": ["story"]}, "unknown rule KB999"),
        ({"component": "kernal", "why": "x", "sources": ["story"]}, "unknown component"),
        ({"platform": "openstack", "why": "x", "sources": ["story"]}, "unknown platform"),
        ({"component": "kernel", "affected": "~5", "why": "x", "sources": ["story"]}, "'~5'"),
        ({"component": "kernel", "why": "x", "sources": ["http://x"]}, "https URL"),
        ({"component": "kernel", "why": "x"}, "cites at least one source"),
        ({"component": "kernel", "sources": ["story"]}, "why it matters"),
    ],
)
def test_a_malformed_condition_is_refused_with_the_story_named(condition, message):
    data = {"stories": {"some-story": {"conditions": [condition]}}}
    with pytest.raises(ConditionError, match=message) as caught:
        parse_exposures(data, known_rules={"KB001"})
    assert "some-story" in str(caught.value)
