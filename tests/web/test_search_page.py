"""The search page: highlights, combinable facets with counts, did-you-mean, pagination,
result count, empty state, and a URL that reproduces the search."""

from __future__ import annotations

import pytest

from tests.web.conftest import assert_csp_clean


@pytest.mark.django_db
def test_results_show_count_and_highlighted_fragments(client, dataset):
    body = client.get("/search/", {"q": "memory"}).content.decode()
    assert "for “memory”" in body
    assert "<mark>" in body
    assert dataset["oom"].title in body
    assert "Unpublished draft story" not in body


@pytest.mark.django_db
def test_facets_show_counts_and_filters_combine(client, dataset):
    body = client.get("/search/", {"q": ""}).content.decode()
    assert 'name="platform" value="gke"' in body and 'name="category" value="dns"' in body
    filtered = client.get("/search/", {"platform": "eks"}).content.decode()
    assert dataset["oom"].title in filtered and dataset["dns"].title not in filtered
    both = client.get("/search/?platform=eks&platform=gke").content.decode()
    assert dataset["oom"].title in both and dataset["dns"].title in both  # OR within a facet
    anded = client.get("/search/?platform=eks&platform=gke&category=dns").content.decode()
    assert dataset["dns"].title in anded and dataset["oom"].title not in anded  # AND across


@pytest.mark.django_db
def test_ticked_facet_still_counts_its_alternatives(client, dataset):
    body = client.get("/search/?platform=eks").content.decode()
    # GKE is not selected, but ticking it would add one story: its count stays visible.
    assert 'value="gke"><span class="value">GKE</span><span class="n">1</span>' in body
    assert 'value="eks" checked><span class="value">EKS</span>' in body


@pytest.mark.django_db
def test_active_filters_can_be_removed_one_by_one(client, dataset):
    body = client.get("/search/?q=pods&platform=eks&category=networking").content.decode()
    assert 'href="?q=pods&amp;category=networking" aria-label="Remove filter EKS"' in body
    assert 'href="?q=pods">Clear all' in body


@pytest.mark.django_db
def test_a_misspelt_search_shows_the_corrected_results_keeping_filters(client, dataset):
    body = client.get("/search/?q=memorry&platform=eks").content.decode()
    assert "Showing results for <strong>memory</strong>" in body
    assert dataset["oom"].title in body
    assert "for “memory”" in body
    assert 'href="?q=memorry&amp;platform=eks&amp;exact=1"' in body  # search instead for


@pytest.mark.django_db
def test_search_instead_for_the_query_as_typed_offers_did_you_mean(client, dataset):
    body = client.get("/search/?q=memorry&platform=eks&exact=1").content.decode()
    assert "No stories match" in body
    assert "Did you mean" in body
    assert 'href="?q=memory&amp;platform=eks"' in body


@pytest.mark.django_db
def test_empty_state_suggests_what_to_do(client, dataset):
    body = client.get("/search/?q=zzzyyyxxx&platform=aks").content.decode()
    assert "No stories match" in body
    assert "Search without the filters" in body
    assert 'href="/categories/dns/"' in body
    assert 'href="/suggest/"' in body


@pytest.mark.django_db
def test_pagination_keeps_the_query(client, make_story, search_index):
    for n in range(25):
        make_story(title=f"Throttled service {n}", summary="CPU throttling hurt latency.")
    search_index()
    body = client.get("/search/?q=throttling").content.decode()
    assert "25 stories" in body and "showing 1–20" in body
    assert 'href="?q=throttling&amp;page=2" rel="next"' in body
    page2 = client.get("/search/?q=throttling&page=2").content.decode()
    assert "showing 21–25" in page2


@pytest.mark.django_db
def test_form_is_get_so_the_url_reproduces_the_search(client, dataset):
    body = client.get("/search/?q=memory&platform=eks").content.decode()
    assert 'method="get"' in body and 'value="memory"' in body
    assert '<input type="hidden" name="platform" value="eks">' in body  # kept on a new query
    assert_csp_clean(body)


@pytest.mark.django_db
def test_hostile_input_is_bounded_and_never_500(client, dataset):
    for params in (
        {"q": "x" * 10_000},
        {"q": '"unterminated AND ( OR'},
        {"year": "not-a-year"},
        {"page": "-5"},
        {"page": "abc"},
        {"has_rules": "maybe"},
    ):
        assert client.get("/search/", params).status_code in (200, 400), params


@pytest.mark.django_db
def test_has_rules_filter(client, dataset):
    body = client.get("/search/?has_rules=true").content.decode()
    assert dataset["oom"].title in body and dataset["other"].title not in body


@pytest.mark.django_db
def test_no_template_markup_leaks_into_the_results(client, dataset):
    body = client.get("/search/", {"q": "memory"}).content.decode()
    assert "story-item" in body
    for marker in ("{#", "#}", "{%", "%}", "{{"):
        assert marker not in body


@pytest.mark.django_db
def test_provenance_is_a_facet_and_a_filter(client, dataset, make_story, search_index):
    listed = make_story(
        slug="listed-only", title="Listed only record", provenance="listing", year=2020
    )
    search_index()
    body = client.get("/search/", {"q": ""}).content.decode()
    assert 'name="provenance" value="listing"' in body
    filtered = client.get("/search/", {"provenance": "listing"}).content.decode()
    assert listed.title in filtered and dataset["oom"].title not in filtered


@pytest.mark.parametrize("key", ["category", "technology", "platform", "source_kind", "year"])
@pytest.mark.parametrize("value", ["%00dns", "%FF%FE%00", "dns%00"])
def test_nul_bytes_in_filters_are_ignored_not_a_500(client, dataset, key, value):
    # PostgreSQL refuses a NUL in any string parameter.
    response = client.get(f"/search/?q=dns&{key}={value}")
    assert response.status_code in (200, 400)


@pytest.mark.django_db
def test_a_nul_byte_in_the_check_page_story_is_ignored(client, dataset):
    assert client.get("/check/?story=dns%00x").status_code == 200
