"""Behaviour of search(): the same tests run against every backend (see conftest.BACKENDS)."""

from __future__ import annotations

import pytest

from incidents import search, services
from incidents.models import Rule, Story, StoryRule


@pytest.fixture
def corpus(vocabulary, make_story, search_index):
    stories = {
        "dns": make_story(
            slug="dns-ndots",
            title="Slow lookups everywhere",
            organisation="Zalando",
            year=2019,
            summary="Every lookup went through five search domains before resolving.",
            symptom="Timeouts resolving external names; NXDOMAIN storms in CoreDNS logs.",
            technologies=[vocabulary["coredns"]],
            categories=[vocabulary["dns"]],
        ),
        "oom": make_story(
            slug="memory-killer",
            title="Workers restarted all day",
            organisation="Acme",
            year=2021,
            platform="eks",
            summary="A queue consumer grew without bound and the kernel killed it repeatedly.",
            symptom="Containers restarted every few minutes with high memory usage.",
            contributing_factors="No memory limit was set on the consumer.",
            detection="Restart counts climbed.",
            technologies=[vocabulary["oom-killer"]],
            categories=[vocabulary["networking"]],
        ),
        "net": make_story(
            slug="network-partition",
            title="Network partition between zones",
            organisation="Globex",
            year=2018,
            platform="aws",
            source_kind="postmortem",
            summary="A routing change split the cluster network in two availability zones.",
            symptom="Requests between zones timed out; health checks flapped.",
            contributing_factors="An untested routing change.",
            fix="Rolled back the routing change.",
            detection="Cross-zone latency alerts.",
            impact="Two hours of errors.",
            categories=[vocabulary["networking"]],
        ),
        "draft": make_story(
            slug="draft-story",
            title="Unfinished draft about timeouts",
            status="draft",
            summary="",
            symptom="Timeouts.",
        ),
    }
    search_index()
    return stories


def slugs(results):
    return [h.story.slug for h in results.hits]


def test_it_finds_words_in_other_forms(backend, corpus):
    assert slugs(search.search("timeout resolve external name"))[0] == "dns-ndots"


def test_it_ranks_stories_matching_more_terms_first_without_requiring_all(backend, corpus):
    results = search.search("zones routing partition quokka")
    assert slugs(results)[0] == "network-partition"
    assert "quokka" not in results.hits[0].matched_terms


def test_it_expands_technology_aliases(backend, corpus):
    # The story never says "exit code 137" or "OOMKilled"; it is tagged with the OOM killer.
    assert slugs(search.search("exit code 137"))[0] == "memory-killer"
    assert slugs(search.search("OOMKilled consumer"))[0] == "memory-killer"


def test_quoted_phrases_are_required(backend, corpus):
    assert slugs(search.search('"routing change"')) == ["network-partition"]
    assert slugs(search.search('"change routing"')) == []


def test_minus_excludes(backend, corpus):
    assert "network-partition" in slugs(search.search("timed out"))
    assert "network-partition" not in slugs(search.search("timed out -routing"))


def test_field_filters_in_the_query(backend, corpus):
    assert slugs(search.search("org:zalando")) == ["dns-ndots"]
    assert slugs(search.search("timeouts tech:coredns")) == ["dns-ndots"]
    assert slugs(search.search("year:2018")) == ["network-partition"]
    assert slugs(search.search("platform:eks kind:blog-post")) == ["memory-killer"]


def test_filters_argument_and_facets_respect_them(backend, corpus):
    results = search.search("", filters={"category": ["networking"]})
    assert set(slugs(results)) == {"memory-killer", "network-partition"}
    assert results.total == 2
    assert results.facets["category"] == [("networking", "Networking", 2)]
    assert dict((v, n) for v, _, n in results.facets["year"]) == {"2021": 1, "2018": 1}
    assert ("eks", "EKS", 1) in results.facets["platform"]
    kinds = {v: (label, n) for v, label, n in results.facets["source_kind"]}
    assert kinds["postmortem"] == ("Postmortem", 1)


def test_has_rules_filter(backend, corpus, search_index):
    rule = Rule.objects.create(rule_id="KB999", slug="x", title="X", severity="warning")
    StoryRule.objects.create(story=corpus["oom"], rule=rule, note="limits")
    search_index()
    assert slugs(search.search("", filters={"has_rules": ["true"]})) == ["memory-killer"]
    assert "memory-killer" not in slugs(search.search("", filters={"has_rules": ["false"]}))


def test_unknown_filter_key_is_an_error(backend, corpus):
    with pytest.raises(search.SearchQueryError):
        search.search("dns", filters={"colour": ["red"]})


def test_empty_query_browses_newest_first_with_facets(backend, corpus):
    results = search.search("")
    assert slugs(results) == ["memory-killer", "dns-ndots", "network-partition"]
    assert results.total == 3
    assert sum(n for _, _, n in results.facets["year"]) == 3


def test_drafts_only_when_asked(backend, corpus):
    assert "draft-story" not in slugs(search.search("unfinished draft"))
    assert "draft-story" in slugs(search.search("unfinished draft", published_only=False))


def test_pagination_and_total(backend, corpus):
    first = search.search("", per_page=2)
    second = search.search("", per_page=2, page=2)
    assert first.total == second.total == 3
    assert len(first.hits) == 2 and len(second.hits) == 1
    assert not set(slugs(first)) & set(slugs(second))
    assert search.search("", per_page=2, page=9).hits == []


def test_highlights_are_escaped_and_only_mark_survives(
    backend, vocabulary, make_story, search_index
):
    make_story(slug="xss", symptom='Timeouts <script>alert("x")</script> <b>bold</b> everywhere.')
    search_index()
    hit = search.search("timeouts").hits[0]
    html = hit.highlights["symptom"]
    assert "<mark>" in html
    assert "<script" not in html and "<b>" not in html
    assert "alert" in html  # the text survives, escaped (Whoosh) or with tags dropped (PG)
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert search.search("timeouts", highlight=False).hits[0].highlights == {}


def test_highlights_mark_every_form_of_each_query_word_in_order(
    backend, vocabulary, make_story, search_index
):
    make_story(
        slug="forms",
        symptom="The timeout hit every pod, then the restarts began; timeouts of the probes "
        "restarted pods again.",
    )
    search_index()
    html = search.search("the timeouts restarting").hits[0].highlights["symptom"]
    assert html.count("<mark>") == 4
    marked = [part.split("</mark>")[0].lower() for part in html.split("<mark>")[1:]]
    assert marked == ["timeout", "restarts", "timeouts", "restarted"]
    assert "<mark>The</mark>" not in html and "<mark>the</mark>" not in html  # stop word


def test_each_hit_gets_the_highlights_of_its_own_fields(
    backend, vocabulary, make_story, search_index, django_capture_on_commit_callbacks
):
    """A page's highlights are worked out together: each must land on its own story and field,
    and follow a story's text when it is edited."""
    make_story(slug="in-title", title="Etcd quorum lost", symptom="Writes hung.", summary="No.")
    make_story(slug="in-symptom", title="Writes hung", symptom="Etcd refused them.", summary="No.")
    make_story(slug="in-summary", title="Slow API", symptom="Latency.", summary="An etcd defrag.")
    search_index()

    def marked():
        return {
            h.story.slug: {f for f, html in h.highlights.items() if "<mark>" in html}
            for h in search.search("etcd", per_page=3).hits
        }

    assert marked() == {
        "in-title": {"title"},
        "in-symptom": {"symptom"},
        "in-summary": {"summary"},
    }
    story = Story.objects.get(slug="in-symptom")
    with django_capture_on_commit_callbacks(execute=True):  # reindexed, caches told
        services.story_update(story=story, data={"summary": "Etcd again."}, expected_version=None)
    assert marked()["in-symptom"] == {"symptom", "summary"}


def test_did_you_mean(backend, corpus):
    results = search.search("partitoin zones")
    assert results.suggestion == "partition zones"
    assert search.search("partition zones").suggestion is None


def test_matched_terms_explain_the_hit(backend, corpus):
    hit = search.search("routing zones").hits[0]
    assert set(hit.matched_terms) == {"routing", "zones"}


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"unbalanced phrase',
        "-",
        "--",
        ":",
        "tech:",
        "year:abc",
        "title:foo",
        "AND OR NOT",
        "(((",
        "*",
        "?",
        "a\x00b",
        "\\",
        "'; DROP TABLE incidents_story; --",
        "ünïcödé 🚀",
        "x" * 10_000,
        " ".join(["timeouts"] * 500),
        "!!&&||<->",
        '"a or b" -"c or" or -or "-x" dns:* <2>',
        "coredns & !timeouts | (lookups <-> nxdomain):*B",
    ],
)
def test_any_input_is_a_valid_query(backend, corpus, text):
    results = search.search(text)
    assert len(results.hits) == min(results.total, results.per_page)
    published = {s.pk for s in corpus.values() if s.is_published}
    assert {hit.story.pk for hit in results.hits} <= published
    assert len(results.query) <= 500


def test_more_like_this_shares_terms(backend, corpus, make_story, vocabulary, search_index):
    other = make_story(
        slug="dns-again",
        title="More DNS timeouts",
        symptom="Timeouts resolving names from CoreDNS.",
        technologies=[vocabulary["coredns"]],
    )
    search_index()
    related = search.more_like_this(corpus["dns"], limit=3)
    assert related[0][0] == other
    assert related[0][1]  # the shared terms
    assert all(story != corpus["dns"] for story, _ in related)


def test_match_text_finds_stories_from_events(backend, corpus):
    events = """
    LAST SEEN   TYPE      REASON      OBJECT              MESSAGE
    2m          Warning   BackOff     pod/worker-7f9c     Back-off restarting failed container
    2m          Normal    Killing     pod/worker-7f9c     Container consumer OOMKilled exit 137
    """
    matches = search.match_text(events)
    assert matches[0][0].slug == "memory-killer"
    assert matches[0][1]
    assert search.match_text("") == []


def test_provenance_filter_in_the_query_and_as_a_facet(backend, corpus, make_story, search_index):
    make_story(
        slug="listed-only",
        title="Listed only",
        source_url="https://example.org/listed",
        provenance="listing",
        summary="Based on the k8s.af listing only: a routing change broke zones.",
    )
    search_index()
    assert slugs(search.search("provenance:listing")) == ["listed-only"]
    assert "listed-only" not in slugs(search.search("", filters={"provenance": ["full"]}))
    facet = {v: (label, n) for v, label, n in search.search("").facets["provenance"]}
    assert facet == {
        "full": ("Whole write-up read", 3),
        "listing": ("From the k8s.af listing only", 1),
    }


def test_equal_relevance_ranks_full_above_partial_above_listing(
    backend, vocabulary, make_story, search_index
):
    # Identical text and scores: without the provenance key the newest id would win the tie.
    text = {"summary": "Quokka gateways dropped every packet during the zone migration window."}
    levels = [("full", {}), ("partial", {"read_parts": "the opening"}), ("listing", {})]
    for i, (level, extra) in enumerate(levels):
        make_story(
            slug=f"twin-{level}",
            title="Quokka gateway drops",
            source_url=f"https://example.org/twin-{i}",
            provenance=level,
            **extra,
            **text,
        )
    search_index()
    results = search.search("quokka gateway")
    assert slugs(results) == ["twin-full", "twin-partial", "twin-listing"]
    assert len({h.score for h in results.hits}) == 1
