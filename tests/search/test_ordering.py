"""Results in a chosen order (the API's `ordering`): both backends order as the database does,
and pages of one order never overlap or skip a story."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Coalesce, Collate, Lower

from incidents import search
from incidents.models import Story
from incidents.search.fields import ORDERINGS
from incidents.search.query import SearchQueryError
from incidents.selectors import StorySearch

# Titles that differ only in case, spaces and punctuation, which a database locale compares
# differently from code points (where "DNS - outage" and "dns outage" are far apart).
TITLES = [
    "DNS outage",
    "dns outage",
    "DNS - outage",
    "DNS-outage",
    "Dns outage",
    "Zookeeper lost quorum",
    "apiserver overload",
    "Apiserver overload",
    "etcd disk full",
    "etcd disk full",
    "_underscore first",
    "10 nodes down",
    "kafka lag",
]
YEARS = [2019, 2021, 2019, 2020, 2021, 2019, 2018, 2021, 2020, 2020, 2019, 2018, 2021]
MOMENTS = [  # published_at; None: published before the time was recorded
    datetime(2021, 3, 1, 12, 0, 0, tzinfo=UTC),
    datetime(2021, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
    datetime(2021, 3, 1, 12, 0, 0, tzinfo=UTC),
    None,
    datetime(2020, 1, 1, tzinfo=UTC),
    datetime(2023, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
    None,
    datetime(2021, 3, 1, 12, 0, 0, tzinfo=UTC),
    datetime(2019, 12, 31, 23, 0, 0, 500000, tzinfo=UTC),
    datetime(2020, 1, 1, tzinfo=UTC),
    datetime(2022, 2, 2, tzinfo=UTC),
    None,
    datetime(2021, 3, 1, 11, 59, 59, 999999, tzinfo=UTC),
]
PUBLISHED_DATES = [None, "2021-05-01", None, "2020-02-02", "2021-05-01", None, None]


@pytest.fixture
def catalogue(backend, make_story, search_index):
    """Stories with ties on every key; every third mentions kafka."""
    for i, (title, year, moment) in enumerate(zip(TITLES, YEARS, MOMENTS, strict=True)):
        summary = "The queue fell behind: kafka lag grew." if i % 3 == 0 else "Pods restarted."
        dated = PUBLISHED_DATES[i] if i < len(PUBLISHED_DATES) else None
        story = make_story(
            title=title, year=year, summary=summary, published_date=dated, organisation="Acme"
        )
        Story.objects.filter(pk=story.pk).update(published_at=moment)
    make_story(title="A draft about kafka", status="draft", summary="kafka draft")
    search_index()


def database_order(ordering: str, **filters) -> list[str]:
    """The slugs as the database orders the published stories (the reference)."""
    title = Collate(Lower("title"), "C" if connection.vendor == "postgresql" else "BINARY")
    order_by = {
        "relevance": [  # without query words: newest first
            "-year",
            Coalesce("published_date", "incident_date").desc(nulls_last=True),
            "-pk",
        ],
        "-year": ["-year", title, "pk"],
        "year": ["year", title, "pk"],
        "title": [title, "pk"],
        "-title": [title.desc(), "-pk"],
        "-published_at": [F("published_at").desc(nulls_last=True), "pk"],
    }[ordering]
    qs = Story.objects.filter(status="published", **filters).order_by(*order_by)
    return list(qs.values_list("slug", flat=True))


def slugs(results) -> list[str]:
    return [h.story.slug for h in results.hits]


@pytest.mark.parametrize("ordering", list(ORDERINGS))
def test_each_ordering_lists_the_stories_in_the_database_order(catalogue, ordering):
    results = search.search("", ordering=ordering, per_page=100)
    assert results.total == len(TITLES)
    assert slugs(results) == database_order(ordering)


@pytest.mark.parametrize("ordering", [o for o in ORDERINGS if o != "relevance"])
def test_each_ordering_orders_the_matches_of_a_query_and_its_filters(catalogue, ordering):
    results = search.search("kafka", ordering=ordering, per_page=100)
    assert slugs(results) == database_order(ordering, summary__contains="kafka")
    assert all(h.score > 0 and h.matched_terms == ["kafka"] for h in results.hits)
    filtered = search.search("kafka", filters={"year": ["2021"]}, ordering=ordering)
    assert slugs(filtered) == database_order(ordering, summary__contains="kafka", year=2021)


@pytest.mark.parametrize("ordering", list(ORDERINGS))
@pytest.mark.parametrize("query", ["", "kafka pods"])
def test_pages_of_an_ordering_add_up_to_the_whole_ordering(catalogue, ordering, query):
    whole = slugs(search.search(query, ordering=ordering, per_page=100))
    pages = []
    for page in range(1, 6):
        found = StorySearch(query, filters={}, ordering=ordering)
        found.window(page=page, per_page=3)
        pages += [h.story.slug for h in found[(page - 1) * 3 : page * 3]]
        assert found.count() == len(whole)
    assert pages == whole
    assert len(set(pages)) == len(pages) == len(TITLES)


def test_the_api_pages_through_an_ordering(catalogue, client):
    seen = []
    for page in (1, 2, 3, 4, 5):
        body = client.get("/api/v1/stories/", {"ordering": "-title", "per_page": 3, "page": page})
        seen += [s["slug"] for s in body.json()["results"]]
    assert seen == database_order("-title")


def test_an_unknown_ordering_is_refused(catalogue):
    with pytest.raises(SearchQueryError):
        search.search("kafka", ordering="slug")
