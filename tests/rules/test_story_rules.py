"""The curated story-rule links: one file owns them, every rule links to a known story."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from incidents.rules.links import LinksError, StoryLinks, read_links
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


def test_the_registry_takes_each_rules_stories_from_the_links_file():
    from_file = {(link["rule"], link["story"]) for link in LINKS}
    from_registry = {(r.id, s) for r in REGISTRY.all() for s in r.stories}
    assert from_registry == from_file


def test_rule_modules_do_not_list_stories_themselves():
    """The links file is the one owner; a `stories=` in a rule module would be a second one."""
    from incidents.rules.builtin import RULES
    from incidents.rules.runtime import RUNTIME_RULES

    assert [rule.id for rule in (*RULES, *RUNTIME_RULES) if rule.stories] == []


def test_a_malformed_links_file_is_refused_with_the_entry_number(tmp_path):
    path = tmp_path / "story_rules.yaml"
    path.write_text(
        "- {story: a-story, rule: KB001, note: Fine.}\n- {story: b-story, rule: KB002}\n"
    )
    with pytest.raises(LinksError, match="entry 2 needs story, rule and note"):
        read_links(path)
    path.write_text("story: not-a-list\n")
    with pytest.raises(LinksError, match="expected a list"):
        read_links(path)


def test_links_answer_both_directions():
    links = StoryLinks(read_links())
    assert "buffer-remove-cpu-limits" in links.stories_for_rule("KB001")
    assert "KB001" in links.rules_for_story("buffer-remove-cpu-limits")
    assert links.note("KB001", "buffer-remove-cpu-limits").startswith("Buffer")
    assert links.stories_for_rule("KB999") == () and links.note("KB999", "x") == ""


@pytest.mark.parametrize("slug", SEED_STORIES)
def test_each_seed_article_story_has_a_runnable_rule(slug):
    assert REGISTRY.filter(story=slug), slug
