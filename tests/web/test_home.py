"""Home: the pitch, the search box, browsing by category/technology/platform, newest stories."""

from __future__ import annotations

import pytest

from tests.web.conftest import assert_csp_clean


@pytest.mark.django_db
def test_home_has_pitch_and_search_box_that_slash_focuses(client, dataset):
    body = client.get("/").content.decode()
    assert "Learn from other people" in body
    assert 'action="/search/"' in body
    assert "data-search-primary" in body  # static/js/kb.js focuses it on "/"
    assert "<kbd>/</kbd>" in body


@pytest.mark.django_db
def test_home_browses_by_category_technology_and_platform_with_counts(client, dataset):
    body = client.get("/").content.decode()
    assert 'href="/categories/networking/">Networking <span class="n">2</span>' in body
    assert 'href="/technologies/coredns/">CoreDNS <span class="n">1</span>' in body
    assert 'href="/platforms/gke/">GKE <span class="n">1</span>' in body


@pytest.mark.django_db
def test_home_lists_newest_published_stories_only(client, dataset):
    body = client.get("/").content.decode()
    assert dataset["oom"].title in body
    assert "Unpublished draft story" not in body


@pytest.mark.django_db
def test_home_works_with_no_stories(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "No stories yet" in response.content.decode()


@pytest.mark.django_db
def test_home_has_landmarks_and_no_inline_code(client, dataset):
    body = client.get("/").content.decode()
    for landmark in ("<header", "<main", "<footer", '<nav class="site-nav" aria-label="Main"'):
        assert landmark in body
    assert 'class="skip-link" href="#main"' in body
    assert_csp_clean(body)
