"""PostgreSQL backend only: the stored facet counts (kb_search_facet) that a search takes its
facets from when it matches most of the published stories (the stored counts minus those of the
published stories that did not match). They must follow every write, equal the counts over the
matches for any query, and appear in an index written before they existed."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from incidents import search
from incidents.models import Story
from incidents.search import postgres_backend as pg

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="PostgreSQL backend only")

QUERIES = [
    ("", {}),  # browsing: every published story matches
    ("timeouts", {}),  # in most stories
    ("timeouts -partition", {}),  # most, less an excluded phrase
    ("etcd", {}),  # in one story: counted over the matches
    ("timeouts", {"platform": ["gke"]}),
    ("", {"category": ["dns"]}),
]


@pytest.fixture
def indexed(settings, vocabulary, make_story, search_index):
    settings.KB_SEARCH_BACKEND = "postgres"
    dns, networking = vocabulary["dns"], vocabulary["networking"]
    for i in range(6):
        make_story(
            slug=f"dns-{i}",
            platform="gke" if i % 2 else "eks",
            year=2018 + i % 3,
            symptom="Timeouts resolving names.",
            categories=[dns] if i % 3 else [dns, networking],
            technologies=[vocabulary["coredns"]],
            # Equal scores, broken by provenance, then by id.
            provenance=("listing", "full", "partial")[i % 3],
            read_parts="the timeline" if i % 3 == 2 else "",
        )
    make_story(slug="partition", symptom="Timeouts between zones after a network partition.")
    make_story(slug="quorum", symptom="etcd lost quorum.", summary="etcd.", platform="aws")
    make_story(slug="a-draft", status="draft", symptom="Timeouts in a draft.")
    search_index()


def stored_counts() -> dict[tuple[str, str], int]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT facet, value, n FROM {pg.FACETS}")
        return {(f, v): n for f, v, n in cur.fetchall() if n}


def fresh_counts() -> dict[tuple[str, str], int]:
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE fresh (LIKE {pg.FACETS})")
        cur.execute(pg._facet_counts_insert_sql("fresh", pg.DOCS))
        cur.execute("SELECT facet, value, n FROM fresh")
        rows = {(f, v): n for f, v, n in cur.fetchall()}
        cur.execute("DROP TABLE fresh")
    return rows


def facets_both_ways(monkeypatch, q: str, filters: dict) -> tuple[tuple, tuple]:
    def run():
        found = search.search(q, filters=filters, per_page=3)
        return found.total, found.facets, [h.story.slug for h in found.hits]

    stored = run()
    monkeypatch.setattr(pg, "USE_STORED_FACETS", False)
    counted = run()
    monkeypatch.setattr(pg, "USE_STORED_FACETS", True)
    return stored, counted


def test_the_stored_counts_are_the_published_stories_counts(indexed):
    assert stored_counts() == fresh_counts()
    assert stored_counts()[(pg.TOTAL, "")] == 8  # the draft is not counted


def test_the_stored_counts_follow_every_write(indexed, make_story, vocabulary):
    quorum = Story.objects.get(slug="quorum")
    quorum.platform, quorum.version = "gke", quorum.version + 1
    quorum.save()
    quorum.categories.add(vocabulary["networking"])
    Story.objects.filter(slug="dns-0").update(status="draft", version=9)
    Story.objects.filter(slug="a-draft").update(status="published", version=9)
    gone = Story.objects.get(slug="partition").pk
    Story.objects.filter(pk=gone).delete()
    added = make_story(slug="new-one", platform="azure", categories=[vocabulary["dns"]])
    flipped = Story.objects.filter(slug__in=["dns-0", "a-draft"]).values_list("pk", flat=True)
    ids = [quorum.pk, gone, added.pk, *flipped]
    pg.index_ids(ids)
    assert stored_counts() == fresh_counts()
    assert stored_counts()[("platform", "azure")] == 1
    pg.index_ids(ids)  # written again unchanged: the same counts
    assert stored_counts() == fresh_counts()


@pytest.mark.parametrize(("q", "filters"), QUERIES)
def test_counts_from_the_stored_ones_equal_counts_over_the_matches(
    indexed, monkeypatch, q, filters
):
    stored, counted = facets_both_ways(monkeypatch, q, filters)
    assert stored == counted
    assert stored[0] > 0


@pytest.mark.parametrize("guess", [True, False])
@pytest.mark.parametrize(("q", "filters"), QUERIES)
def test_a_wrong_guess_of_the_statements_shape_changes_no_count(
    indexed, monkeypatch, q, filters, guess
):
    # The guess whether most stories match only decides where the facet values are read
    # (the matches' CTE, or joined back): a wrong one costs time, never a count.
    expected = facets_both_ways(monkeypatch, q, filters)[1]
    monkeypatch.setattr(pg, "_most_stories_likely", lambda groups: guess)
    assert facets_both_ways(monkeypatch, q, filters) == (expected, expected)


def test_a_search_matching_most_stories_reads_the_stored_counts(indexed):
    with connection.cursor() as cur:  # a wrong stored count shows where the counts come from
        cur.execute(
            f"UPDATE {pg.FACETS} SET n = n + 100 WHERE facet = 'platform' AND value = 'gke'"
        )
    broad = dict((v, n) for v, _, n in search.search("timeouts").facets["platform"])
    narrow = dict((v, n) for v, _, n in search.search("etcd").facets["platform"])
    assert broad["gke"] > 100
    assert narrow == {"aws": 1}


def test_an_index_from_before_the_stored_counts_gets_them(indexed, monkeypatch):
    before = search.search("timeouts")
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {pg.FACETS}")
    monkeypatch.setattr(pg, "_SCHEMA_OK", False)
    after = search.search("timeouts")
    assert (after.total, after.facets) == (before.total, before.facets)
    assert stored_counts() == fresh_counts()


def test_a_rebuild_writes_the_stored_counts(indexed, search_index):
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {pg.FACETS}")
    search_index()
    assert stored_counts() == fresh_counts()


@pytest.mark.parametrize(("q", "filters"), QUERIES)
def test_every_page_is_the_same_whether_the_matches_rows_are_read_or_not(
    indexed, monkeypatch, q, filters
):
    """When most stories match, no filter applies and the best scores come first, the matches
    are scored without reading their document rows: only the best scores and every story tied
    with the last of them are joined for the tie-break (provenance, then id). Each page must be
    the one the full order gives, drafts left out."""
    statements = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    def pages():
        return [
            [
                (h.story.slug, h.score)
                for h in search.search(q, filters=filters, page=p, per_page=2).hits
            ]
            for p in (1, 2, 3, 4, 5)
        ]

    monkeypatch.setattr(pg, "_most_stories_likely", lambda groups: True)
    with connection.execute_wrapper(spy):
        fast = pages()
    assert any("WITH TIES" in sql for sql in statements) == bool(q and not filters)
    monkeypatch.setattr(pg, "_most_stories_likely", lambda groups: False)
    assert pages() == fast
    slugs = [slug for page in fast for slug, _ in page]
    assert "a-draft" not in slugs
    assert len(slugs) == len(set(slugs)) == search.search(q, filters=filters).total
    if q == "timeouts" and not filters:  # six stories with the same words: ties
        assert [s for s in slugs if s.startswith("dns-")] == [
            "dns-4",
            "dns-1",
            "dns-5",
            "dns-2",
            "dns-3",
            "dns-0",
        ]  # full, partial, listing, the newer id first
