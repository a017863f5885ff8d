"""Writes through services: versioning, optimistic locking and validation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from incidents import services
from incidents.models import Story


@pytest.mark.django_db
def test_each_update_bumps_the_version(make_story):
    story = make_story()
    services.story_update(story=story, data={"title": "New"}, expected_version=1)
    assert Story.objects.get(pk=story.pk).version == 2


@pytest.mark.django_db
def test_a_stale_update_is_refused_and_nothing_is_overwritten(make_story):
    story = make_story(title="Original")
    first = Story.objects.get(pk=story.pk)
    second = Story.objects.get(pk=story.pk)
    services.story_update(story=first, data={"title": "First"}, expected_version=1)
    with pytest.raises(services.StaleStoryError, match="version 1, it is now at version 2"):
        services.story_update(story=second, data={"title": "Second"}, expected_version=1)
    assert Story.objects.get(pk=story.pk).title == "First"


@pytest.mark.django_db
def test_invalid_data_is_a_validation_error_not_a_crash(make_story):
    story = make_story()
    with pytest.raises(ValidationError):
        services.story_update(story=story, data={"platform": "mainframe"}, expected_version=None)


@pytest.mark.django_db
def test_publishing_sets_the_publication_time_once(make_story):
    story = make_story(status="draft")
    services.story_publish(story=story)
    first = Story.objects.get(pk=story.pk).published_at
    services.story_unpublish(story=story)
    services.story_publish(story=story)
    assert first is not None
    assert Story.objects.get(pk=story.pk).published_at == first


def test_an_update_changes_only_the_fields_it_names_even_from_a_stale_copy(make_story):
    """Two writers without a version check (If-Match: *) patch different fields: neither puts
    back what it read before the other's write."""
    from incidents.models import Story

    story = make_story(title="Old title", fix="Old fix")
    stale = Story.objects.get(pk=story.pk)  # read before the other writer's update
    services.story_update(
        story=Story.objects.get(pk=story.pk), data={"title": "New title"}, expected_version=None
    )
    saved = services.story_update(story=stale, data={"fix": "New fix"}, expected_version=None)
    fresh = Story.objects.get(pk=story.pk)
    assert (fresh.title, fresh.fix) == ("New title", "New fix")
    assert fresh.version == saved.version == story.version + 2
    assert (stale.title, stale.version) == ("New title", fresh.version)  # refreshed


def test_publish_and_unpublish_keep_fields_changed_since_the_story_was_read(make_story):
    from incidents.models import Story

    story = make_story(status="draft", summary="Draft summary")
    stale = Story.objects.get(pk=story.pk)
    services.story_update(
        story=Story.objects.get(pk=story.pk), data={"summary": "Edited"}, expected_version=None
    )
    services.story_publish(story=stale)
    fresh = Story.objects.get(pk=story.pk)
    assert (fresh.status, fresh.summary) == ("published", "Edited")
    assert fresh.published_at is not None
    stale = Story.objects.get(pk=story.pk)
    services.story_update(
        story=Story.objects.get(pk=story.pk), data={"fix": "Edited fix"}, expected_version=None
    )
    services.story_unpublish(story=stale)
    fresh = Story.objects.get(pk=story.pk)
    assert (fresh.status, fresh.fix) == ("draft", "Edited fix")
