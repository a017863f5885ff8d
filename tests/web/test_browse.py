"""Story lists: all, by category, technology and platform, with pagination."""

from __future__ import annotations

import pytest

from tests.web.conftest import assert_csp_clean


@pytest.mark.django_db
def test_story_list_shows_published_only(client, dataset):
    body = client.get("/stories/").content.decode()
    assert dataset["dns"].title in body and "Unpublished draft story" not in body
    assert "3 stories" in body


@pytest.mark.django_db
def test_category_page_lists_its_stories_and_links_its_feed(client, dataset):
    body = client.get("/categories/dns/").content.decode()
    assert dataset["dns"].title in body and dataset["other"].title not in body
    assert 'href="/feeds/categories/dns.atom"' in body
    assert 'href="/search/?category=dns"' in body


@pytest.mark.django_db
def test_technology_page_shows_aliases(client, dataset):
    body = client.get("/technologies/oom-killer/").content.decode()
    assert dataset["oom"].title in body
    assert "OOMKilled" in body  # an alias people type


@pytest.mark.django_db
def test_platform_page_filters_by_platform(client, dataset):
    body = client.get("/platforms/eks/").content.decode()
    assert dataset["oom"].title in body and dataset["dns"].title not in body


@pytest.mark.django_db
def test_unknown_platform_category_or_technology_is_404(client, dataset):
    for url in ("/platforms/mainframe/", "/categories/nope/", "/technologies/nope/"):
        assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_story_list_paginates_and_tolerates_bad_page_numbers(client, make_story):
    for n in range(35):
        make_story(title=f"Paged story {n:02d}")
    first = client.get("/stories/").content.decode()
    assert "page 1 of 2" in first and 'rel="next"' in first
    assert "page 2 of 2" in client.get("/stories/?page=2").content.decode()
    assert client.get("/stories/?page=abc").status_code == 200
    assert "page 2 of 2" in client.get("/stories/?page=999").content.decode()
    assert_csp_clean(first)
