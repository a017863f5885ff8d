"""Urlencoded form bodies: the same request.POST as Django builds, in memory near the body size."""

from __future__ import annotations

import tracemalloc
from urllib.parse import quote_plus

import pytest
from django.core.cache import cache
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from incidents.formbody import parse_urlencoded
from incidents.models import Story

FORM = "application/x-www-form-urlencoded"

# Bodies built from the pieces that make form decoding interesting.
pieces = st.sampled_from(
    [b"a", b"=", b"&", b"+", b"%", b"%3A", b"%E4%B8%AD", b"%E4", b"%zz", b"%%41", b"\xff",
     "键".encode(), b"\x00", b"%00", b"%ED%A0%80", b"a=b", b"&&", b" "]
)  # fmt: skip


@given(st.lists(pieces, max_size=40).map(b"".join))
def test_it_builds_the_same_post_as_django(body):
    assert list(parse_urlencoded(body, "utf-8").lists()) == list(QueryDict(body).lists())


def test_an_escape_split_across_slices_still_decodes():
    for n in range(16 * 1024 - 4, 16 * 1024 + 1):
        body = b"a=" + b"x" * n + b"%E4%B8%AD%3A"
        assert parse_urlencoded(body, "utf-8")["a"] == "x" * n + "中:", n


def test_a_body_of_escapes_needs_memory_near_its_own_size():
    """Django's own parsing (urllib's parse_qsl) holds one object per escape: about 57 times a
    body like this one, which is what a manifest pasted into a form looks like."""
    body = b"manifest=" + quote_plus("replicas: 1" + ":0" * 350_000).encode()
    tracemalloc.start()
    try:
        parse_urlencoded(body, "utf-8")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(body), (peak, len(body))


def test_too_many_fields_is_refused_as_django_does(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    with pytest.raises(TooManyFieldsSent):
        parse_urlencoded(b"a=1&b=2&c=3&d=4", "utf-8")


@pytest.mark.django_db
def test_a_urlencoded_suggestion_passes_csrf_and_is_stored():
    cache.clear()
    client = Client(enforce_csrf_checks=True)
    client.get("/suggest/")
    token = client.cookies["csrftoken"].value
    fields = {
        "csrfmiddlewaretoken": token,
        "url": "https://example.org/an-outage",
        "title": "Ingress 502s: 中文",
        "what_happened": "replicas: 1:0:0 + more",
        "website": "",
    }
    body = "&".join(f"{k}={quote_plus(v)}" for k, v in fields.items())
    response = client.post("/suggest/", body, content_type=FORM)
    assert response.status_code == 302, response.content[:500]
    story = Story.objects.get(source_url="https://example.org/an-outage")
    assert story.title == "Ingress 502s: 中文"
    assert "replicas: 1:0:0 + more" in story.curation_note
    cache.clear()


@pytest.mark.django_db
def test_a_form_post_of_escapes_stays_near_its_size_end_to_end():
    """Through the middleware stack: a suggestion whose text is 1.4 MB of escapes (rejected as
    too long) peaks at a small multiple of its size, not the 60-fold of Django's own parsing."""
    cache.clear()
    text = quote_plus("replicas: 1" + ":0" * 350_000)
    body = f"url=https%3A%2F%2Fexample.org%2Fx&title=t&what_happened={text}".encode()
    client = Client()
    tracemalloc.start()
    try:
        response = client.post("/suggest/", body, content_type=FORM)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 400
    assert peak < 15 * len(body), (peak, len(body))
    cache.clear()
