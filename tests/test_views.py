"""The minimal pages: story list and story page with every section."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_list_shows_published_stories_only(client, make_story):
    make_story(title="Visible story")
    make_story(title="Hidden draft", status="draft")
    body = client.get("/stories/").content.decode()
    assert "Visible story" in body and "Hidden draft" not in body


@pytest.mark.django_db
def test_story_page_renders_every_section_and_provenance(client, make_story):
    story = make_story(provenance="listing")
    body = client.get(story.get_absolute_url()).content.decode()
    for heading in ("Summary", "Symptom", "Contributing factors", "Fix", "Detection", "Impact"):
        assert f">{heading}</h2>" in body
    assert story.source_url in body
    assert "From the k8s.af listing only" in body
    assert "<code>coredns_dns_responses_total" in body


@pytest.mark.django_db
def test_draft_story_page_is_not_found(client, make_story):
    story = make_story(status="draft")
    assert client.get(f"/stories/{story.slug}/").status_code == 404
