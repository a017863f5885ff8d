"""incidents.pagecache: shared page aggregates follow every write, and a missing cache never
breaks a write or a page."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from incidents import pagecache


@pytest.mark.django_db
def test_a_write_through_the_services_shows_on_the_next_page(client, make_story):
    make_story(slug="first", title="First story")
    assert "<strong>1</strong> story" in client.get("/").content.decode()
    make_story(slug="second", title="Second story")
    assert "<strong>2</strong> stories" in client.get("/").content.decode()


@pytest.mark.django_db
def test_values_are_computed_once_per_version():
    calls = []

    def build():
        calls.append(1)
        return len(calls)

    assert pagecache.cached("t", build) == 1
    assert pagecache.cached("t", build) == 1
    pagecache.bump()
    assert pagecache.cached("t", build) == 2


@pytest.mark.django_db
def test_a_broken_cache_neither_fails_a_write_nor_a_page(monkeypatch, make_story, client):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    monkeypatch.setattr(cache, "add", broken)
    make_story(slug="written", title="Written while the cache was down")
    assert pagecache.cached("t", lambda: 42) == 42
    assert client.get("/").status_code == 200
    assert client.get("/data/stories.json").status_code == 200
