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


PREVIOUS_LAYOUT = [
    # Before the vector and posting tables: the document rows held the vector and rank_norm.
    f"ALTER TABLE {pg.DOCS} ADD COLUMN vector tsvector, ADD COLUMN rank_norm double precision",
    f"UPDATE {pg.DOCS} d SET vector = v.vector, rank_norm = v.rank_norm FROM {pg.VECTORS} v "
    "WHERE v.story_id = d.story_id",
    f"DROP TABLE {pg.VECTORS}, {pg.POSTINGS}",
]
BEFORE_PROVENANCE = [f"ALTER TABLE {pg.DOCS} DROP COLUMN provenance"]
OLDEST_LAYOUT = [
    *PREVIOUS_LAYOUT,
    *BEFORE_PROVENANCE,
    # Before the copied filter columns and the stored normalisation, with stale lexeme counts.
    f"ALTER TABLE {pg.DOCS} DROP COLUMN status, DROP COLUMN year, DROP COLUMN platform, "
    "DROP COLUMN source_kind, DROP COLUMN sort_date, DROP COLUMN cats, DROP COLUMN rank_norm",
    f"DELETE FROM {pg.LEXEMES}",
]


def _postings_match_vectors(cur) -> bool:
    """Postings are exactly the (lexeme, story) pairs of the vectors, and the lexeme table holds
    each lexeme's document frequency (a lexeme no story has any more may stay, counted 0)."""
    pairs = f"SELECT u, story_id FROM {pg.VECTORS}, unnest(tsvector_to_array(vector)) u"
    postings = f"SELECT lexeme, story_id FROM {pg.POSTINGS}"
    cur.execute(
        f"SELECT (SELECT count(*) FROM ({postings} EXCEPT {pairs}) a), "
        f"(SELECT count(*) FROM ({pairs} EXCEPT {postings}) b), "
        f"(SELECT count(*) FROM {pg.LEXEMES} l FULL JOIN ts_stat('SELECT vector FROM "
        f"{pg.VECTORS}') t ON t.word = l.lexeme WHERE coalesce(l.ndoc, 0) <> coalesce(t.ndoc, 0)), "
        f"(SELECT count(*) FROM {pg.POSTINGS})"
    )
    extra, missing, wrong_df, total = cur.fetchone()
    return extra == missing == wrong_df == 0 and total > 0


@pytest.mark.parametrize(
    "layout",
    [BEFORE_PROVENANCE, PREVIOUS_LAYOUT, OLDEST_LAYOUT],
    ids=["before-provenance", "previous", "oldest"],
)
def test_an_index_from_an_earlier_layout_is_upgraded_in_place(indexed, monkeypatch, layout):
    queries = [
        ("dns timeouts", {}),
        ("zones", {"category": ["networking"]}),
        ('"search domains" lookup', {}),
        ("dns -zones", {}),
        ("", {}),
        ("dns", {"provenance": ["full"]}),
    ]
    before = [_view(search.search(q, filters=f)) for q, f in queries]
    assert all(total for _, total, _ in before), [t for _, t, _ in before]
    with connection.cursor() as cur:
        for statement in layout:
            cur.execute(statement)
    monkeypatch.setattr(pg, "_SCHEMA_OK", False)
    pg.clear_caches()
    after = [_view(search.search(q, filters=f)) for q, f in queries]
    assert after == before
    assert pg._schema_current()
    with connection.cursor() as cur:
        assert _postings_match_vectors(cur)


def test_stored_length_normalisation_reproduces_ts_rank_exactly(indexed):
    total = 0
    with connection.cursor() as cur:
        for words in ("dns", "timeouts resolving", "network partition zones", "kube-proxy"):
            cur.execute(
                f"SELECT count(*), count(*) FILTER (WHERE ts_rank(%s, vector, q, 1) "
                f"<> (ts_rank(%s, vector, q, 0) / rank_norm)::real) "
                f"FROM {pg.VECTORS}, plainto_tsquery('english', %s) q WHERE vector @@ q",
                [pg.WEIGHTS, pg.WEIGHTS, words],
            )
            matched, different = cur.fetchone()
            assert different == 0, words
            total += matched
    assert total >= 4


def test_postings_hold_the_rank_a_one_word_group_scores(indexed, make_story, search_index):
    """A one-word group is ranked from its postings: each must be the value ranking the story's
    vector gives, and every lexeme gets one, odd ones (quotes, URLs, paths) included."""
    make_story(
        slug="odd-lexemes",
        title="O'Reilly's proxy at http://x.io/a'b?c=d",
        symptom="Paths like C:\\temp\\dir and /usr/lib/it's broke the 'quoted' kube-proxy.",
    )
    search_index()
    with connection.cursor() as cur:
        assert _postings_match_vectors(cur)
        cur.execute(f"SELECT count(*) FROM {pg.POSTINGS} WHERE rank <= 0")
        assert cur.fetchone()[0] == 0  # every lexeme was found again in its own vector
        cur.execute(f"SELECT count(*) FROM {pg.POSTINGS} WHERE strpos(lexeme, '''') > 0")
        assert cur.fetchone()[0] >= 1  # a lexeme with a quote in it
        for word in ("dns", "timeouts", "zones", "proxy", "reilly", "x.io"):
            cur.execute(
                f"SELECT v.story_id, (ts_rank(%s, v.vector, q, 0) / v.rank_norm)::real "
                f"FROM {pg.VECTORS} v, plainto_tsquery('english', %s) q WHERE v.vector @@ q "
                "ORDER BY 1",
                [pg.WEIGHTS, word],
            )
            expected = cur.fetchall()
            cur.execute(
                f"SELECT story_id, rank FROM {pg.POSTINGS} WHERE lexeme = "
                "(tsvector_to_array(to_tsvector('english', %s)))[1] ORDER BY 1",
                [word],
            )
            assert cur.fetchall() == expected != [], word


def test_edits_and_deletes_keep_postings_and_document_frequencies_in_step(indexed):
    from incidents.models import Story

    story = Story.objects.get(slug="network-partition")
    story.symptom = "Calico route reflectors dropped every BGP session."
    story.save()
    gone = Story.objects.get(slug="dns-ndots")
    gone_pk = gone.pk
    gone.delete()
    search.backend().index_ids([story.pk, gone_pk])
    with connection.cursor() as cur:
        assert _postings_match_vectors(cur)
    assert [h.story.slug for h in search.search("bgp reflectors").hits] == ["network-partition"]
    assert search.search("nxdomain").total == 0
    assert search.search("partition").total == 1


def test_searches_are_right_when_the_frequency_cache_overflows(indexed, monkeypatch):
    expected = [_view(search.search(q)) for q in ("dns timeouts", "zones lookups", "dns")]
    monkeypatch.setattr(pg, "_DF_CACHE_MAX", 1)  # every lookup overflows and clears the cache
    pg.clear_caches()
    assert [_view(search.search(q)) for q in ("dns timeouts", "zones lookups", "dns")] == expected
    assert expected[0][1] == 2


def test_a_tsquery_is_read_as_plain_lexemes_joined_by_or_only_when_it_is_one():
    assert pg._or_lexemes("'dns'") == ("dns",)
    assert pg._or_lexemes("'oom' | 'oomkil' | 'oom'") == ("oom", "oomkil")
    assert pg._or_lexemes("'it''s' | 'c:\\\\temp'") == ("it's", "c:\\temp")
    assert pg._or_lexemes("'exit' <-> 'code' | 'oom'") == ()
    assert pg._or_lexemes("'dns':* | 'oom'") == ()
    assert pg._or_lexemes("'dns':A") == ()
    assert pg._or_lexemes("'dns' & 'oom'") == ()
    assert pg._or_lexemes("!'dns'") == ()
    assert pg._or_lexemes("") == ()


def test_a_word_and_its_aliases_score_from_postings_as_from_the_vectors(indexed, monkeypatch):
    """A group of several lexemes joined by OR is ranked from their postings, each divided by
    their number: it must give every story the score ranking its vector gives."""
    queries = ("超时 coredns", "网络 zones", "timeouts lookups", "oom zones dns")
    several = []
    real = pg._scores_sql

    def spy(groups):
        several.extend(g.label for g in groups if len(g.lexemes) > 1)
        return real(groups)

    monkeypatch.setattr(pg, "_scores_sql", spy)
    from_postings = [_view(search.search(q)) for q in queries]
    assert several  # the queries do have such groups
    one_only = pg._or_lexemes
    monkeypatch.setattr(pg, "_or_lexemes", lambda text: r if len(r := one_only(text)) == 1 else ())
    pg.clear_caches()
    from_vectors = [_view(search.search(q)) for q in queries]
    assert any(view[0] for view in from_vectors)
    for got, expected in zip(from_postings, from_vectors, strict=True):
        assert [(slug, terms) for slug, _, terms in got[0]] == [
            (slug, terms) for slug, _, terms in expected[0]
        ]
        assert [s for _, s, _ in got[0]] == pytest.approx([s for _, s, _ in expected[0]], rel=1e-6)
        assert got[1:] == expected[1:]


def test_did_you_mean_candidates_leave_the_planner_settings_as_they_were(indexed):
    """Looking up spelling candidates turns sequential scans off for its own statement only,
    also inside a caller's transaction, where a SET LOCAL would otherwise last to its end."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cur:
        assert "timeouts" in pg.spelling_candidates("timeuots")
        cur.execute("SHOW enable_seqscan")
        assert cur.fetchone()[0] == "on"
