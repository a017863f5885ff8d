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
