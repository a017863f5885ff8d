"""load_stories / export_stories: idempotent, conflict-aware, byte-for-byte round trip."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from incidents import services
from incidents.models import Story
from incidents.storyfiles import SECTIONS, STORIES_DIR


def _load(directory=STORIES_DIR, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_stories", str(directory), stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_loading_twice_creates_once(tmp_path):
    out, _ = _load()
    count = Story.objects.count()
    assert count == len(list(STORIES_DIR.glob("*.md")))
    out, _ = _load()
    assert f"{count} unchanged" in out
    assert Story.objects.count() == count


@pytest.mark.django_db
def test_load_then_export_is_byte_for_byte_identical(tmp_path):
    _load()
    call_command("export_stories", str(tmp_path), stdout=io.StringIO())
    for original in STORIES_DIR.glob("*.md"):
        exported = tmp_path / original.name
        assert exported.read_bytes() == original.read_bytes(), original.name


@pytest.fixture
def story_dir(tmp_path):
    directory = tmp_path / "stories"
    directory.mkdir()
    shutil.copy(STORIES_DIR / "devops-hof-lb-drain.md", directory)
    return directory


@pytest.mark.django_db
def test_a_changed_file_updates_an_unedited_record(story_dir):
    _load(story_dir)
    path = story_dir / "devops-hof-lb-drain.md"
    path.write_text(path.read_text().replace("## Impact\n\n", "## Impact\n\nUpdated. "))
    out, _ = _load(story_dir)
    assert "1 updated" in out
    assert Story.objects.get().impact.startswith("Updated. ")


@pytest.mark.django_db
def test_a_curator_edit_is_kept_and_a_conflict_is_reported(story_dir):
    _load(story_dir)
    story = Story.objects.get()
    services.story_update(
        story=story, data={"fix": "Curator's better fix text."}, expected_version=1
    )
    out, _ = _load(story_dir)
    assert "1 kept" in out  # file unchanged: the curator's edit stays

    path = story_dir / "devops-hof-lb-drain.md"
    path.write_text(path.read_text().replace("## Impact\n\n", "## Impact\n\nFile change. "))
    out, err = _load(story_dir)
    assert "1 conflict" in out and "conflict: devops-hof-lb-drain.md" in err
    story.refresh_from_db()
    assert story.fix == "Curator's better fix text."
    assert not story.impact.startswith("File change.")

    out, _ = _load(story_dir, force=True)
    story.refresh_from_db()
    assert story.impact.startswith("File change.")


@pytest.mark.django_db
def test_a_broken_file_is_reported_and_the_rest_still_load(story_dir):
    (story_dir / "broken.md").write_text("no front matter here")
    with pytest.raises(CommandError, match="1 problem"):
        _load(story_dir)
    assert Story.objects.filter(slug="devops-hof-lb-drain").exists()


DEMO = """---
slug: demo-story
title: A demo story
organisation: Demo Org
source_url: https://example.org/demo
source_kind: blog-post
year: 2019
platform: gke
provenance: listing
status: published
categories:
- dns
technologies:
- coredns
---
""" + "".join(f"\n## {title}\n\nText of the {title.lower()} section.\n" for _, title in SECTIONS)


@pytest.fixture
def demo_path(tmp_path):
    directory = tmp_path / "demo"
    directory.mkdir()
    path = directory / "demo-story.md"
    path.write_text(DEMO)
    return path


def _with_meta(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("provenance: listing\n", "provenance: source\n", "provenance must be one of"),
        (
            "provenance: listing\n",
            "provenance: partial\nread_on: 2026-12-05\n",
            "must say what was read in read_parts",
        ),
        ("provenance: listing\n", "provenance: full\n", "read_on (the date the source was read)"),
        (
            "year: 2019\n",
            "year: 2019\npublished_date: 5 Aug 2019\n",
            "published_date must be a date",
        ),
        ("year: 2019\n", "year: 2019\nlisting_year: 2019\n", "listing_year is only for"),
        (
            "provenance: listing\n",
            "provenance: full\nread_on: 2026-12-05\nread_from: ftp://copy\n",
            "read_from must be an http(s) URL",
        ),
        (
            "provenance: listing\n",
            "provenance: full\nread_on: 2026-12-05\nfacts:\n- claim: 26 minutes\n",
            "facts entry 1: needs a quote or a where",
        ),
    ],
)
@pytest.mark.django_db
def test_the_loader_refuses_bad_provenance_dates_and_facts(demo_path, old, new, message):
    _with_meta(demo_path, old, new)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_stories", str(demo_path.parent), stdout=out, stderr=err)
    assert "demo-story.md" in err.getvalue() and message in err.getvalue()
    assert not Story.objects.exists()


@pytest.mark.django_db
def test_provenance_dates_and_facts_round_trip(demo_path, tmp_path):
    _with_meta(
        demo_path,
        "provenance: listing\n",
        "provenance: partial\nread_parts: opening and the timeline\n"
        "read_from: https://github.com/example/copy\nread_on: 2026-12-05\n",
    )
    _with_meta(
        demo_path, "year: 2019\n", "year: 2019\nlisting_year: 2020\nincident_date: 2019-02-28\n"
    )
    _with_meta(
        demo_path,
        "- coredns\n---\n",
        "- coredns\nfacts:\n- claim: 26 minutes to mitigate\n"
        "  quote: 'Time to mitigate: 26 minutes'\n  where: header\n---\n",
    )
    _load(demo_path.parent)
    story = Story.objects.get()
    assert (story.provenance, story.read_parts) == ("partial", "opening and the timeline")
    assert story.listing_year == 2020 and str(story.incident_date) == "2019-02-28"
    assert story.facts[0]["quote"] == "Time to mitigate: 26 minutes"
    out = tmp_path / "out"
    call_command("export_stories", str(out), stdout=io.StringIO())
    assert (out / demo_path.name).read_bytes() == demo_path.read_bytes()


@pytest.mark.django_db
def test_a_slug_taken_by_another_story_is_a_reported_conflict_not_a_failure(story_dir):
    """Curator writes through the API gave the file's slug and source URL to two different
    stories: loading reports it and carries on (start-up runs load_stories)."""
    _load(story_dir)
    original = Story.objects.get()
    url, slug = original.source_url, original.slug
    services.story_delete(story=original)
    base = {
        "title": "Made through the API",
        "organisation": "Example",
        "year": 2020,
        "status": "draft",
        "provenance": "listing",
    }
    services.story_create(data={**base, "slug": slug, "source_url": "https://example.com/x"})
    services.story_create(data={**base, "slug": "api-story", "source_url": url})
    out, err = _load(story_dir)  # no CommandError
    assert "1 conflict" in out
    assert "conflict: devops-hof-lb-drain.md" in err and "slug" in err.lower()
    assert set(Story.objects.values_list("slug", "source_url")) == {
        (slug, "https://example.com/x"),
        ("api-story", url),
    }
