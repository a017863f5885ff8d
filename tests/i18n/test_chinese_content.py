"""Chinese content: `summary_zh` on stories (files, loader, exporter, page, API) and the Chinese
landing text of the ten categories with the most stories."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command

from incidents.models import Category, Status, Story
from incidents.storyfiles import (
    STORIES_DIR,
    StoryFileError,
    parse_story_text,
    read_story_dir,
    story_file_to_text,
)

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
# The five stories the seed article (a Chinese write-up of k8s.af) retells.
SEED_ARTICLE_STORIES = [
    "buffer-remove-cpu-limits",
    "prometheuskube-fluent-bit-to-fluentd",
    "loveholidays-gke-ip-exhaustion",
    "devops-hof-lb-drain",
    "jwplayer-cryptominer",
]
HEADING = "\n## Summary (Simplified Chinese)\n\n"


def _load() -> None:
    call_command("load_stories", str(STORIES_DIR), stdout=io.StringIO(), stderr=io.StringIO())


def test_the_seed_article_stories_carry_a_chinese_summary():
    files = {f.slug: f for _, f in read_story_dir(STORIES_DIR)[0]}
    for slug in SEED_ARTICLE_STORIES:
        text = files[slug].sections["summary_zh"]
        assert len(text) > 150 and "。" in text, slug


def test_a_file_without_the_chinese_section_exports_without_it():
    source = (STORIES_DIR / "airbnb-10-weird-ways.md").read_text(encoding="utf-8")
    parsed = parse_story_text(source)
    assert parsed.sections["summary_zh"] == ""
    assert story_file_to_text(parsed) == source


def test_the_chinese_section_must_come_last():
    source = (STORIES_DIR / "jwplayer-cryptominer.md").read_text(encoding="utf-8")
    head, _, chinese = source.partition(HEADING)
    moved = head.replace("\n## Impact\n", HEADING + chinese + "\n## Impact\n")
    with pytest.raises(StoryFileError, match="optionally followed by"):
        parse_story_text(moved, name="moved.md")


@pytest.mark.django_db
def test_load_and_export_keep_the_chinese_summary_byte_for_byte(tmp_path):
    _load()
    story = Story.objects.get(slug="jwplayer-cryptominer")
    assert story.summary_zh.startswith("JW Player 的 DevOps 团队")
    call_command("export_stories", str(tmp_path), stdout=io.StringIO())
    for slug in SEED_ARTICLE_STORIES:
        original = (STORIES_DIR / f"{slug}.md").read_bytes()
        assert (tmp_path / f"{slug}.md").read_bytes() == original


@pytest.mark.django_db
def test_removing_the_section_from_the_file_clears_the_field(tmp_path):
    source = (STORIES_DIR / "devops-hof-lb-drain.md").read_text(encoding="utf-8")
    (tmp_path / "devops-hof-lb-drain.md").write_text(source, encoding="utf-8")
    call_command("load_stories", str(tmp_path), stdout=io.StringIO())
    assert Story.objects.get(slug="devops-hof-lb-drain").summary_zh
    (tmp_path / "devops-hof-lb-drain.md").write_text(source.partition(HEADING)[0], encoding="utf-8")
    call_command("load_stories", str(tmp_path), stdout=io.StringIO())
    assert Story.objects.get(slug="devops-hof-lb-drain").summary_zh == ""


@pytest.mark.django_db
def test_the_ten_categories_with_most_stories_have_chinese_landing_text():
    _load()
    counts = Counter(
        slug
        for story in Story.objects.filter(status=Status.PUBLISHED).prefetch_related("categories")
        for slug in (c.slug for c in story.categories.all())
    )
    top_ten = [slug for slug, _ in counts.most_common(10)]
    for category in Category.objects.filter(slug__in=top_ten):
        assert category.name_zh and len(category.description_zh) > 60, category.slug


@pytest.mark.django_db
def test_the_story_page_shows_the_chinese_summary_as_a_translation(client):
    _load()
    from incidents import search

    search.rebuild()
    chinese = client.get("/stories/jwplayer-cryptominer/", **ZH).content.decode()
    assert "中文摘要" in chinese and "门罗币" in chinese
    assert "由我们译自下方的英文记录" in chinese
    assert "found a Monero miner" in chinese  # the English record stays, below
    english = client.get("/stories/jwplayer-cryptominer/").content.decode()
    assert "门罗币" not in english


@pytest.mark.django_db
def test_a_category_page_shows_its_chinese_landing_text(client):
    _load()
    body = client.get("/categories/dns/", **ZH).content.decode()
    assert "集群内的域名解析是许多故障的源头" in body
    assert "本页中文介绍根据我们的英文记录撰写" in body
    networking = client.get("/categories/networking/", **ZH).content.decode()
    assert "<h1>网络</h1>" in networking
    assert "集群内的域名解析" not in client.get("/categories/dns/").content.decode()
