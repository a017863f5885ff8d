"""The index follows the database: after commit, never before; rollbacks leave no trace."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from incidents import search, services
from incidents.models import Story


def slugs(query, **kw):
    return [h.story.slug for h in search.search(query, **kw).hits]


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    """Run on_commit hooks as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def test_publish_edit_unpublish_delete_are_followed(backend, vocabulary, make_story, hooks):
    with hooks():
        story = make_story(slug="s1", title="Kafka brokers lost quorum", status="draft")
    assert slugs("kafka brokers") == []
    with hooks():
        services.story_publish(story=story)
    assert slugs("kafka brokers") == ["s1"]
    with hooks():
        services.story_update(
            story=story, data={"title": "Zookeeper lost quorum"}, expected_version=None
        )
    assert slugs("zookeeper") == ["s1"]
    assert slugs("kafka brokers") == []
    with hooks():
        services.story_unpublish(story=story)
    assert slugs("zookeeper") == []
    with hooks():
        services.story_delete(story=story)
    assert slugs("zookeeper", published_only=False) == []


def test_nothing_is_indexed_before_commit(backend, vocabulary, make_story, hooks):
    with hooks() as callbacks:
        make_story(slug="s2", title="Kafka brokers lost quorum")
        assert slugs("kafka") == []  # still inside the transaction
    # One index update (the page cache's version bump is the other callback).
    assert len([c for c in callbacks if c.__module__.startswith("incidents.search")]) == 1
    assert slugs("kafka") == ["s2"]


def test_a_rolled_back_change_leaves_no_trace(backend, vocabulary, make_story, hooks):
    with hooks():
        story = make_story(slug="s3", title="Kafka brokers lost quorum")
    with hooks(), pytest.raises(RuntimeError), transaction.atomic():
        services.story_update(
            story=story, data={"title": "Zookeeper exploded"}, expected_version=None
        )
        raise RuntimeError("boom")
    assert slugs("zookeeper") == []
    assert slugs("kafka") == ["s3"]


def test_check_finds_and_fixes_stale_missing_and_orphaned(backend, vocabulary, make_story):
    a = make_story(slug="a", title="Kafka brokers")
    b = make_story(slug="b", title="Etcd quorum")
    search.rebuild()
    Story.objects.filter(pk=a.pk).update(title="Zookeeper", version=5)  # bypasses the hooks
    c = make_story(slug="c", title="Calico routes")  # hook never fires inside the test
    Story.objects.filter(pk=b.pk).delete()
    report = search.check_index(fix=False)
    assert (report.stale, report.missing, report.orphaned) == ([a.pk], [c.pk], [b.pk])
    assert search.index_status()["stale"] > 0
    report = search.check_index(fix=True)
    assert report.fixed
    assert search.check_index().ok
    assert slugs("zookeeper") == ["a"]
    assert slugs("calico") == ["c"]
    assert slugs("etcd") == []


def test_rebuild_command_and_check(backend, vocabulary, make_story, capsys):
    make_story(slug="a", title="Kafka brokers")
    call_command("rebuild_search_index")
    assert "indexed 1 stories" in capsys.readouterr().out
    call_command("rebuild_search_index", "--check")
    assert "up to date" in capsys.readouterr().out
    assert slugs("kafka") == ["a"]


def test_system_check_warns_when_index_missing_or_stale(backend, vocabulary, make_story):
    from incidents.checks import check_search_index

    story = make_story(slug="a", title="Kafka brokers")
    if backend == "whoosh":
        assert [w.id for w in check_search_index(None)] == ["incidents.W001"]
    search.rebuild()
    assert check_search_index(None) == []
    Story.objects.filter(pk=story.pk).update(version=9)
    assert [w.id for w in check_search_index(None)] == ["incidents.W002"]


def test_system_check_is_silent_about_a_missing_index_over_an_empty_database(db, settings):
    """`make setup` runs sync_rules and load_stories before it builds the index: a fresh
    database has nothing to search, so no warning that reads like a failure."""
    from incidents.checks import check_search_index

    settings.KB_SEARCH_BACKEND = "whoosh"  # its index is a directory that does not exist yet
    assert not search.backend().index_exists()
    assert check_search_index(None) == []
