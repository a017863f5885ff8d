"""Curator writes: token auth, model permissions, ETag / If-Match optimistic locking."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from incidents.models import Story
from incidents.services import api_token_create, api_token_revoke

NEW = {
    "slug": "new-story",
    "title": "A new story",
    "organisation": "Gamma",
    "source_url": "https://example.org/new",
    "source_kind": "postmortem",
    "year": 2024,
    "platform": "aks",
    "status": "published",
    "provenance": "full",
    "summary": "Something broke.",
    "categories": ["dns"],
    "technologies": ["coredns"],
}


def token_client(user) -> APIClient:
    c = APIClient(enforce_csrf_checks=True)
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='t')[1]}")
    return c


def test_a_curator_creates_a_story(curator_client, curator, stories):
    response = curator_client.post("/api/v1/stories/", NEW, format="json")
    assert response.status_code == 201, response.json()
    assert response["ETag"] == '"1"'
    assert response["Location"] == "http://testserver/api/v1/stories/new-story/"
    story = Story.objects.get(slug="new-story")
    assert [c.slug for c in story.categories.all()] == ["dns"]
    assert story.history.first().history_user == curator


@pytest.mark.parametrize("csrf", [True, False])
def test_anonymous_writes_are_refused_whatever_the_csrf_state(stories, csrf):
    client = APIClient(enforce_csrf_checks=csrf)
    assert client.post("/api/v1/stories/", NEW, format="json").status_code == 401
    response = client.patch("/api/v1/stories/dns-outage/", {"title": "x"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"
    assert Story.objects.get(slug="dns-outage").title == "CoreDNS ran out of memory"


def test_a_logged_in_session_is_not_enough(stories, curator):
    client = APIClient()
    client.force_login(curator)
    assert client.post("/api/v1/stories/", NEW, format="json").status_code == 401


def test_a_token_without_the_permission_is_forbidden(stories, outsider):
    response = token_client(outsider).post("/api/v1/stories/", NEW, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_bad_and_revoked_tokens_are_401(stories, curator):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer kb_abcdefgh_not-the-secret")
    assert client.get("/api/v1/stories/").status_code == 401
    token, plaintext = api_token_create(user=curator, name="old")
    api_token_revoke(token=token)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    response = client.post("/api/v1/stories/", NEW, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_update_needs_if_match(curator_client, stories):
    response = curator_client.patch("/api/v1/stories/dns-outage/", {"title": "x"}, format="json")
    assert response.status_code == 428
    assert response.json()["error"]["code"] == "precondition_required"


def test_an_update_with_the_current_etag_succeeds_and_moves_it(curator_client, stories):
    etag = curator_client.get("/api/v1/stories/dns-outage/")["ETag"]
    response = curator_client.patch(
        "/api/v1/stories/dns-outage/", {"title": "Renamed"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Renamed"
    assert response["ETag"] == '"2"'
    assert Story.objects.get(slug="dns-outage").version == 2


def test_a_stale_write_is_a_412_and_changes_nothing(curator_client, stories):
    etag = curator_client.get("/api/v1/stories/dns-outage/")["ETag"]
    first = curator_client.patch(
        "/api/v1/stories/dns-outage/", {"title": "First"}, format="json", HTTP_IF_MATCH=etag
    )
    assert first.status_code == 200
    second = curator_client.patch(
        "/api/v1/stories/dns-outage/", {"title": "Second"}, format="json", HTTP_IF_MATCH=etag
    )
    assert second.status_code == 412
    assert second.json()["error"]["code"] == "precondition_failed"
    assert second.json()["error"]["details"] == {"current_version": 2}
    assert second["ETag"] == '"2"'
    assert Story.objects.get(slug="dns-outage").title == "First"


def test_put_replaces_and_validates(curator_client, stories):
    etag = curator_client.get("/api/v1/stories/oom-storm/")["ETag"]
    data = {**NEW, "slug": "oom-storm", "source_url": "https://example.org/oom", "year": 1999}
    response = curator_client.put(
        "/api/v1/stories/oom-storm/", data, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 400
    assert "year" in response.json()["error"]["details"]
    data["year"] = 2022
    response = curator_client.put(
        "/api/v1/stories/oom-storm/", data, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200
    assert response.json()["year"] == 2022


def test_duplicate_source_url_is_a_400(curator_client, stories):
    data = {**NEW, "source_url": stories["dns"].source_url}
    response = curator_client.post("/api/v1/stories/", data, format="json")
    assert response.status_code == 400
    assert "source_url" in response.json()["error"]["details"]


def test_a_source_url_with_characters_a_uri_cannot_hold_is_stored_percent_encoded(
    curator_client, stories
):
    import re

    data = {**NEW, "source_url": 'https://example.com/?a="><b>x</b>&c=é'}
    response = curator_client.post("/api/v1/stories/", data, format="json")
    assert response.status_code == 201, response.json()
    url = response.json()["source_url"]
    assert re.fullmatch(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-F]{2})+", url)
    assert url == "https://example.com/?a=%22%3E%3Cb%3Ex%3C/b%3E&c=%C3%A9"
    # Found again by the same spelling: a second create is a conflict, not a duplicate.
    again = curator_client.post("/api/v1/stories/", {**data, "slug": "other"}, format="json")
    assert again.status_code in (400, 409)


@pytest.mark.parametrize("field", ["categories", "technologies"])
@pytest.mark.parametrize("value", ["dns\x00", "x" * 5000, "\x00"])
def test_a_vocabulary_slug_that_cannot_exist_is_a_400(curator_client, stories, field, value):
    response = curator_client.patch(
        "/api/v1/stories/dns-outage/", {field: [value]}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 400
    assert len(response.content) < 2000
