"""PostgreSQL backend only: its schema upgrades in place and its stored values stay exact."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from incidents import search
from incidents.search import postgres_backend as pg

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="PostgreSQL backend only")


@pytest.fixture
def indexed(settings, vocabulary, make_story, search_index):
    settings.KB_SEARCH_BACKEND = "postgres"
    make_story(
        slug="dns-ndots",
        title="Slow lookups everywhere",
        year=2019,
        platform="gke",
        symptom="Timeouts resolving external names; NXDOMAIN storms in CoreDNS logs.",
        summary="Every lookup went through five search domains before resolving.",
        technologies=[vocabulary["coredns"]],
        categories=[vocabulary["dns"]],
    )
    make_story(
        slug="network-partition",
        title="Network partition between zones",
        year=2018,
        platform="aws",
        symptom="Requests between zones timed out; DNS lookups failed.",
        summary="A routing change split the cluster network in two zones.",
        categories=[vocabulary["networking"]],
    )
    make_story(slug="a-draft", title="Draft about DNS timeouts", status="draft", summary="DNS.")
    search_index()


def _view(results):
    return (
        [(h.story.slug, h.score, h.matched_terms) for h in results.hits],
        results.total,
        results.facets,
    )


def test_an_index_from_before_the_copied_columns_is_upgraded_in_place(indexed, monkeypatch):
    queries = [("dns timeouts", {}), ("zones", {"category": ["networking"]}), ("", {})]
    before = [_view(search.search(q, filters=f)) for q, f in queries]
    with connection.cursor() as cur:
        cur.execute(
            f"ALTER TABLE {pg.DOCS} DROP COLUMN status, DROP COLUMN year, DROP COLUMN platform, "
            "DROP COLUMN source_kind, DROP COLUMN sort_date, DROP COLUMN cats, "
            "DROP COLUMN rank_norm"
        )
    monkeypatch.setattr(pg, "_SCHEMA_OK", False)
    after = [_view(search.search(q, filters=f)) for q, f in queries]
    assert after == before
    assert pg._schema_current()


def test_stored_length_normalisation_reproduces_ts_rank_exactly(indexed):
    total = 0
    with connection.cursor() as cur:
        for words in ("dns", "timeouts resolving", "network partition zones", "kube-proxy"):
            cur.execute(
                f"SELECT count(*), count(*) FILTER (WHERE ts_rank(%s, vector, q, 1) "
                f"<> (ts_rank(%s, vector, q, 0) / rank_norm)::real) "
                f"FROM {pg.DOCS}, plainto_tsquery('english', %s) q WHERE vector @@ q",
                [pg.WEIGHTS, pg.WEIGHTS, words],
            )
            matched, different = cur.fetchone()
            assert different == 0, words
            total += matched
    assert total >= 4
