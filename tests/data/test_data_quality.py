"""The curated dataset meets the bar a reader relies on.

Fails when a published record misses a required section, has a section shorter than a useful
minimum, has a malformed URL, shares a URL with another record, or uses a category or technology
outside the vocabulary.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from incidents.models import Platform, Provenance, SourceKind, Status
from incidents.storyfiles import DATA_DIR, SECTIONS, STORIES_DIR, parse_story_text

MIN_SUMMARY = 120
MIN_SECTION = 60
FILES = sorted(STORIES_DIR.glob("*.md"))
VOCABULARY = yaml.safe_load((DATA_DIR / "vocabulary.yaml").read_text(encoding="utf-8"))
CATEGORIES = {c["slug"] for c in VOCABULARY["categories"]}
TECHNOLOGIES = {t["slug"] for t in VOCABULARY["technologies"]}


def _load(path):
    return parse_story_text(path.read_text(encoding="utf-8"), name=path.name)


def test_the_dataset_covers_the_k8s_af_list_and_the_seed_stories():
    slugs = {p.stem for p in FILES}
    assert len(slugs) >= 53
    for seed in (
        "buffer-remove-cpu-limits",
        "prometheuskube-fluent-bit-to-fluentd",
        "jwplayer-cryptominer",
        "loveholidays-gke-ip-exhaustion",
        "devops-hof-lb-drain",
    ):
        assert seed in slugs


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_published_record_is_complete_and_well_formed(path):
    story = _load(path)
    meta = story.meta
    assert meta["status"] in Status.values
    if meta["status"] != Status.PUBLISHED:
        return
    assert meta["source_kind"] in SourceKind.values
    assert meta["platform"] in Platform.values
    assert meta["provenance"] in Provenance.values
    assert 2014 <= meta["year"] <= 2100
    for key, title in SECTIONS:
        text = story.sections[key]
        minimum = MIN_SUMMARY if key == "summary" else MIN_SECTION
        assert len(text) >= minimum, f"{title} is shorter than {minimum} characters"
    sentences = len(re.findall(r"[.!?](?:\s|$)", story.sections["summary"]))
    assert 2 <= sentences <= 5, f"summary has {sentences} sentences; 2-4 wanted"
    if meta["provenance"] == Provenance.LISTING:
        assert "k8s.af listing only" in story.sections["summary"]
    assert set(meta["categories"]) <= CATEGORIES, "category outside the vocabulary"
    assert set(meta["technologies"]) <= TECHNOLOGIES, "technology outside the vocabulary"
    assert meta["categories"] and meta["technologies"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_source_url_is_well_formed(path):
    url = _load(path).meta["source_url"]
    parts = urlsplit(url)
    assert parts.scheme in {"http", "https"} and "." in parts.netloc
    assert not re.search(r"\s", url)


def test_no_two_records_share_a_source_url_or_slug():
    urls = [_load(p).meta["source_url"].rstrip("/").lower() for p in FILES]
    assert len(urls) == len(set(urls))


def test_vocabulary_has_no_duplicate_slugs_names_or_aliases():
    techs = VOCABULARY["technologies"]
    assert len({t["slug"] for t in techs}) == len(techs)
    assert len({t["name"].lower() for t in techs}) == len(techs)
    seen: dict[str, str] = {}
    for tech in techs:
        for alias in [tech["name"], *tech.get("aliases", [])]:
            key = str(alias).lower()
            assert seen.setdefault(key, tech["slug"]) == tech["slug"], f"{alias} names two things"


@pytest.mark.parametrize(
    ("alias", "slug"),
    [
        ("OOMKilled", "oom-killer"),
        ("exit code 137", "oom-killer"),
        ("ndots:5", "ndots"),
        ("bad gateway", "http-5xx"),
        ("502", "http-5xx"),
        ("HPA", "hpa"),
        ("horizontal pod autoscaler", "hpa"),
        ("CFS quota", "cpu-limits"),
    ],
)
def test_vocabulary_covers_the_spellings_users_type(alias, slug):
    tech = next(t for t in VOCABULARY["technologies"] if t["slug"] == slug)
    assert alias.lower() in {a.lower() for a in [tech["name"], *tech.get("aliases", [])]}
