"""Database constraints hold whatever path writes the row."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from incidents.models import Story


def _raw_story(**overrides) -> Story:
    fields = {
        "slug": "raw",
        "title": "Raw",
        "organisation": "Org",
        "source_url": "https://example.com/raw",
        "year": 2020,
        "status": "draft",
    }
    fields.update(overrides)
    return Story(**fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"year": 1999},
        {"source_url": "ftp://example.com/x"},
        {"platform": "mainframe"},
        {"source_kind": "tweet"},
        {"status": "archived"},
        {"provenance": "rumour"},
        {"status": "published", "summary": ""},
        {"slug": ""},
        {"version": 0},
    ],
)
def test_database_rejects_invalid_rows_without_forms(overrides):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_story(**overrides).save()


@pytest.mark.django_db
def test_source_url_is_unique(make_story):
    make_story(source_url="https://example.com/same")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_story(slug="other", source_url="https://example.com/same").save()


@pytest.mark.django_db
def test_story_rule_link_is_unique_per_pair(make_story):
    from incidents.models import Rule, StoryRule

    story = make_story()
    rule = Rule.objects.create(rule_id="KB999", slug="test-rule", title="T", severity="warning")
    StoryRule.objects.create(story=story, rule=rule, note="why")
    with pytest.raises(IntegrityError), transaction.atomic():
        StoryRule.objects.create(story=story, rule=rule, note="again")


@pytest.mark.django_db
def test_every_save_is_recorded_in_history_with_old_and_new_values(make_story):
    story = make_story(title="Before")
    story.title = "After"
    story.save()
    latest, previous = story.history.all()[:2]
    delta = latest.diff_against(previous)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("title", "Before", "After")]
