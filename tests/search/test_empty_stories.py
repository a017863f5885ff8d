"""Empty and minimal stories (what an anonymous suggestion creates) index and search.

Whoosh answers None for the length of an empty field once a segment has a length column (after
a rebuild, or when incremental commits merge segments); summing those lengths made every search
raise, so one suggestion broke story pages, /search/, match and chat.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from incidents import search, services
from incidents.models import Story


def _suggested() -> Story:
    story, created = services.story_suggest(
        url="https://example.org/outage", title="Our outage", what_happened="It broke."
    )
    assert created
    return story


def _bare(make_story, slug: str) -> Story:
    """A draft with every Markdown field empty and a title and organisation made only of stop
    words: nothing to index."""
    return make_story(
        slug=slug,
        status="draft",
        title="The",
        organisation="a",
        summary="",
        symptom="",
        contributing_factors="",
        fix="",
        detection="",
        impact="",
    )


def _searches_work() -> None:
    assert [h.story.slug for h in search.search("coredns timeouts").hits] == ["dns"]
    assert search.search("").total >= 1
    assert [s.slug for s, _, _ in search.match_text("CoreDNS timeouts resolving names")] == ["dns"]


def test_a_suggested_draft_does_not_break_search_after_a_rebuild(backend, make_story):
    make_story(slug="dns", title="CoreDNS timeouts")
    _suggested()
    search.rebuild()
    _searches_work()


def test_empty_stories_index_and_search_after_a_rebuild(backend, make_story):
    make_story(slug="dns", title="CoreDNS timeouts")
    bare = _bare(make_story, "bare")
    search.rebuild()
    _searches_work()
    assert search.more_like_this(bare) == []
    assert search.check_index().ok


def test_empty_stories_survive_segment_merges(
    backend, make_story, django_capture_on_commit_callbacks
):
    """Incremental commits: many small segments that Whoosh merges as they accumulate."""
    make_story(slug="dns", title="CoreDNS timeouts")
    search.rebuild()
    for i in range(12):
        with django_capture_on_commit_callbacks(execute=True):
            if i % 2:
                _bare(make_story, f"bare-{i}")
            else:
                services.story_suggest(
                    url=f"https://example.org/outage-{i}", title=f"Outage {i}", what_happened="x"
                )
    _searches_work()
    assert search.check_index().ok


def test_check_reports_an_index_that_cannot_answer_a_search(backend, make_story, monkeypatch):
    make_story(slug="dns", title="CoreDNS timeouts")
    search.rebuild()

    def broken(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(search.backend(), "execute", broken)
    report = search.check_index()
    assert not report.ok
    assert "TypeError" in report.unusable
    with pytest.raises(CommandError, match="cannot answer a search"):
        call_command("rebuild_search_index", "--check", "--dry-run")
