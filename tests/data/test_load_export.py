"""load_stories / export_stories: idempotent, conflict-aware, byte-for-byte round trip."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from incidents import services
from incidents.models import Story
from incidents.storyfiles import STORIES_DIR


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
