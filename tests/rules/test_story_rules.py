"""The curated story-rule links: every rule links to a known story, and data and code agree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from incidents.rules.registry import REGISTRY
from tests.rules.helpers import known_story_slugs

LINKS_FILE = Path(__file__).resolve().parents[2] / "incidents" / "data" / "story_rules.yaml"
LINKS = yaml.safe_load(LINKS_FILE.read_text())
SEED_STORIES = (
    "buffer-remove-cpu-limits",
    "prometheuskube-fluent-bit-to-fluentd",
    "loveholidays-gke-ip-exhaustion",
    "devops-hof-lb-drain",
    "jwplayer-cryptominer",
)


def test_each_link_has_a_story_a_rule_and_a_one_sentence_note():
    for link in LINKS:
        assert set(link) == {"story", "rule", "note"}, link
        assert link["note"].strip().endswith("."), link
        assert 20 <= len(link["note"]) <= 500, link
    pairs = Counter((link["story"], link["rule"]) for link in LINKS)
    assert [pair for pair, n in pairs.items() if n > 1] == []


def test_links_name_only_known_stories_and_rules():
    known = known_story_slugs()
    assert sorted({link["story"] for link in LINKS} - known) == []
    assert sorted({link["rule"] for link in LINKS if link["rule"] not in REGISTRY}) == []


@pytest.mark.parametrize("rule", REGISTRY.all(), ids=lambda r: r.id)
def test_every_rule_is_backed_by_a_known_story_or_a_cited_public_report(rule):
    assert rule.stories or rule.reports, f"{rule.id} links to no story and cites no report"
    assert set(rule.stories) <= known_story_slugs()
    assert set(rule.reports) <= set(rule.references)


def test_the_curated_links_equal_the_rules_story_metadata():
    from_file = {(link["rule"], link["story"]) for link in LINKS}
    from_code = {(r.id, s) for r in REGISTRY.all() for s in r.stories}
    assert sorted(from_code - from_file) == [], "add these links to story_rules.yaml"
    assert sorted(from_file - from_code) == [], "add these stories to the rules' metadata"


@pytest.mark.parametrize("slug", SEED_STORIES)
def test_each_seed_article_story_has_a_runnable_rule(slug):
    assert REGISTRY.filter(story=slug), slug
