"""Suggest a story: creates a draft, recognises known URLs, resists spam."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from incidents.models import Story

FORM = {
    "url": "https://blog.example.org/2024/our-dns-outage",
    "title": "Our DNS outage",
    "what_happened": "ndots:5 multiplied every lookup and CoreDNS fell over.",
    "website": "",
}


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_suggestion_creates_a_draft_for_curators(client):
    response = client.post("/suggest/", FORM)
    assert response.status_code == 302 and response["Location"] == "/suggest/thanks/"
    story = Story.objects.get(source_url=FORM["url"])
    assert story.status == "draft" and story.provenance == "listing"
    assert story.title == "Our DNS outage" and story.organisation == "blog.example.org"
    assert "ndots:5 multiplied every lookup" in story.curation_note
    assert "Suggested by a reader" in story.curation_note


@pytest.mark.django_db
def test_draft_appears_in_the_admin_queue(client, curator):
    Client().post("/suggest/", FORM)
    client.force_login(curator)
    body = client.get("/admin/incidents/story/?status__exact=draft").content.decode()
    assert "Our DNS outage" in body


@pytest.mark.django_db
def test_known_url_is_recognised_and_not_duplicated(client, make_story):
    story = make_story(source_url="https://blog.example.org/2024/our-dns-outage")
    variant = {**FORM, "url": "http://www.blog.example.org/2024/our-dns-outage/"}
    body = client.post("/suggest/", variant).content.decode()
    assert "We already have this one" in body and story.get_absolute_url() in body
    assert Story.objects.count() == 1


@pytest.mark.django_db
def test_second_suggestion_of_a_draft_says_it_is_queued(client):
    client.post("/suggest/", FORM)
    body = client.post("/suggest/", FORM).content.decode()
    assert "already in the curators' queue" in body
    assert Story.objects.count() == 1


@pytest.mark.django_db
def test_honeypot_submissions_look_accepted_but_store_nothing(client):
    response = client.post("/suggest/", {**FORM, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not Story.objects.exists()


@pytest.mark.django_db
def test_rate_limit_per_address(client):
    for n in range(5):
        client.post("/suggest/", {**FORM, "url": f"https://example.org/post-{n}"})
    response = client.post("/suggest/", {**FORM, "url": "https://example.org/post-99"})
    assert response.status_code == 429 and "Retry-After" in response
    assert Story.objects.count() == 5
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post("/suggest/", {**FORM, "url": "https://example.org/x"}).status_code == 302


@pytest.mark.django_db
def test_csrf_token_is_required(db):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/suggest/", FORM).status_code == 403
    assert not Story.objects.exists()


@pytest.mark.django_db
def test_invalid_input_gets_field_errors(client):
    response = client.post("/suggest/", {**FORM, "url": "javascript:alert(1)", "title": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid URL" in body and "This field is required" in body
    assert not Story.objects.exists()


@pytest.mark.django_db
def test_honeypot_is_hidden_by_a_class_not_an_inline_style(client):
    body = client.get("/suggest/").content.decode()
    assert 'class="hidden-field" aria-hidden="true"' in body and "style=" not in body
    assert "csrfmiddlewaretoken" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["https://example.org:99999/post", 'https://example.org/?a=">x<', "https://example.org/é"],
)
def test_odd_but_accepted_addresses_never_make_a_500(client, url):
    response = client.post("/suggest/", {**FORM, "url": url})
    assert response.status_code in (200, 302, 400)
    for story in Story.objects.all():
        assert not set(story.source_url) & set(' "<>é')
