"""A field declared once (incidents.search.fields) is searchable, filterable and faceted on every
backend, and offered by the API, with nothing else written for it."""

from __future__ import annotations

import pytest

from incidents import search
from incidents.search import fields
from incidents.search.fields import ApiParam, Kind, SearchField

DECADE = SearchField(
    "decade",
    Kind.KEYWORD,
    lambda story: f"{story.year // 10 * 10}s",
    aliases=("era",),
    facet="Decade",
    api=ApiParam("The decade of the incident, e.g. 2010s."),
)


@pytest.fixture
def decades(backend, vocabulary, make_story, search_index):
    with fields.declared(DECADE):
        make_story(slug="old-dns", year=2018, title="DNS timeouts in the old cluster")
        make_story(slug="older-dns", year=2016, title="DNS timeouts before the upgrade")
        make_story(slug="new-dns", year=2021, title="DNS timeouts after the upgrade")
        search_index()
        yield


def slugs(results) -> list[str]:
    return sorted(h.story.slug for h in results.hits)


def test_a_declared_field_filters_by_argument_and_by_query_syntax(decades):
    assert slugs(search.search("dns", filters={"decade": ["2010s"]})) == ["old-dns", "older-dns"]
    assert slugs(search.search("dns era:2020s")) == ["new-dns"]
    assert slugs(search.search("decade:1990s")) == []


def test_a_declared_field_is_counted_as_a_facet(decades):
    results = search.search("timeouts")
    assert results.facets["decade"] == [("2010s", "2010s", 2), ("2020s", "2020s", 1)]
    narrowed = search.search("timeouts upgrade", filters={"decade": ["2020s"]})
    assert narrowed.facets["decade"] == [("2020s", "2020s", 1)]


def test_a_declared_field_is_an_api_parameter_and_facet(decades, client):
    body = client.get("/api/v1/stories/", {"q": "dns", "decade": "2010s"}).json()
    assert sorted(s["slug"] for s in body["results"]) == ["old-dns", "older-dns"]
    assert body["facets"]["decade"] == [{"value": "2010s", "label": "2010s", "count": 2}]


def test_a_field_name_that_is_not_an_identifier_is_refused():
    with pytest.raises(ValueError):
        SearchField("decade; drop table", Kind.KEYWORD, lambda story: "")
