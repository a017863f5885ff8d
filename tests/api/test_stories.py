"""GET /api/v1/stories/ and /api/v1/stories/{slug}/."""

from __future__ import annotations


def test_it_lists_published_stories_newest_first(client, stories):
    response = client.get("/api/v1/stories/")
    assert response.status_code == 200
    body = response.json()
    assert [s["slug"] for s in body["results"]] == ["oom-storm", "dns-outage", "ingress-502"]
    assert body["count"] == 3
    assert body["page"] == 1 and body["num_pages"] == 1
    assert body["next"] is None and body["previous"] is None


def test_each_result_carries_what_a_bot_needs(client, stories):
    item = client.get("/api/v1/stories/", {"q": "coredns"}).json()["results"][0]
    assert item["slug"] == "dns-outage"
    assert item["url"] == "http://testserver/stories/dns-outage/"
    assert item["api_url"] == "http://testserver/api/v1/stories/dns-outage/"
    assert item["rules"] == ["KB033"]
    assert item["categories"] == [{"slug": "dns", "name": "DNS"}]
    assert item["technologies"] == [{"slug": "coredns", "name": "CoreDNS"}]
    assert {"organisation", "year", "platform", "source_url", "summary", "score"} <= item.keys()
    assert any("<mark>" in html for html in item["highlights"].values())


def test_it_returns_facets_and_a_suggestion(client, stories):
    body = client.get("/api/v1/stories/", {"q": "coredsn"}).json()
    assert set(body["facets"]) == {
        "category", "technology", "platform", "year", "source_kind", "provenance",
    }  # fmt: skip
    assert "suggestion" in body
    everything = client.get("/api/v1/stories/").json()
    years = {f["value"]: f["count"] for f in everything["facets"]["year"]}
    assert years == {"2021": 1, "2019": 1, "2018": 1}


def test_a_misspelt_query_returns_the_corrected_results(client, stories):
    body = client.get("/api/v1/stories/", {"q": "corednz"}).json()
    assert body["corrected"] is True
    assert body["suggestion"] == "coredns"
    assert [s["slug"] for s in body["results"]][:1] == ["dns-outage"]
    exact = client.get("/api/v1/stories/", {"q": "corednz", "exact": "true"}).json()
    assert exact["corrected"] is False
    assert exact["count"] == 0 and exact["suggestion"] == "coredns"
    plain = client.get("/api/v1/stories/", {"q": "coredns"}).json()
    assert plain["corrected"] is False


def test_it_filters(client, stories):
    def slugs(**params):
        return [s["slug"] for s in client.get("/api/v1/stories/", params).json()["results"]]

    assert slugs(category="dns") == ["dns-outage"]
    assert slugs(technology="oom-killer") == ["oom-storm"]
    assert slugs(platform="eks") == ["oom-storm"]
    assert slugs(year="2018") == ["ingress-502"]
    assert slugs(source_kind="postmortem") == ["ingress-502"]
    assert slugs(has_rules="true") == ["dns-outage"]
    assert sorted(slugs(has_rules="false")) == ["ingress-502", "oom-storm"]
    assert sorted(slugs(category="dns,networking")) == ["dns-outage", "ingress-502"]
    assert slugs(provenance="listing") == []
    assert len(slugs(provenance=["full", "partial"])) == 3


def test_it_says_how_much_of_the_source_a_record_rests_on(client, make_story, stories):
    make_story(
        slug="partly-read",
        source_url="https://example.org/partly",
        provenance="partial",
        read_parts="opening and the timeline",
        read_from="https://github.com/example/copy",
        year=2019,
        listing_year=2020,
        published_date="2019-08-05",
        facts=[{"claim": "26 minutes to mitigate", "quote": "Time to mitigate: 26 minutes"}],
    )
    from incidents import search

    search.rebuild()
    listed = client.get("/api/v1/stories/", {"provenance": "partial"}).json()
    assert [(s["slug"], s["provenance"]) for s in listed["results"]] == [("partly-read", "partial")]
    detail = client.get("/api/v1/stories/partly-read/").json()
    assert detail["read_parts"] == "opening and the timeline"
    assert detail["read_from"] == "https://github.com/example/copy"
    assert (detail["year"], detail["listing_year"]) == (2019, 2020)
    assert (detail["published_date"], detail["incident_date"]) == ("2019-08-05", None)
    assert detail["facts"] == [
        {"claim": "26 minutes to mitigate", "quote": "Time to mitigate: 26 minutes"}
    ]
    bad = client.get("/api/v1/stories/", {"provenance": "source"})
    assert bad.status_code == 400


def test_it_orders_and_pages_stably(client, stories):
    def page(n, ordering):
        params = {"ordering": ordering, "per_page": 2, "page": n}
        return client.get("/api/v1/stories/", params).json()

    first, second = page(1, "year"), page(2, "year")
    assert [s["slug"] for s in first["results"]] == ["ingress-502", "dns-outage"]
    assert [s["slug"] for s in second["results"]] == ["oom-storm"]
    assert "page=2" in first["next"] and "page=1" in second["previous"]
    assert [s["slug"] for s in page(1, "title")["results"]] == ["dns-outage", "ingress-502"]


def test_a_page_past_the_end_is_a_json_404(client, stories):
    response = client.get("/api/v1/stories/", {"page": 9})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invalid_pagination"


def test_pages_stop_where_the_search_stops_ranking(client, stories, monkeypatch):
    # The search ranks MAX_PAGE pages deep (1,000): num_pages and `next` stop there, count
    # does not. Lowered here so that three stories make three pages.
    monkeypatch.setattr("incidents.api.pagination.MAX_PAGE", 2)
    body = client.get("/api/v1/stories/", {"per_page": 1, "page": 2}).json()
    assert (body["count"], body["num_pages"], body["next"]) == (3, 2, None)
    assert body["results"] and "page=1" in body["previous"]


def test_drafts_are_not_listed_or_shown_to_readers(client, stories):
    assert client.get("/api/v1/stories/draft-story/").status_code == 404
    slugs = [s["slug"] for s in client.get("/api/v1/stories/", {"per_page": 100}).json()["results"]]
    assert "draft-story" not in slugs


def test_detail_has_every_field_rendered_html_rules_and_related(client, stories):
    response = client.get("/api/v1/stories/dns-outage/")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["fix"] == "Raised the limit and added an autoscaler."
    assert body["html"]["detection"].startswith("<p>Alert on <code>")
    assert body["rules"] == [
        {
            "id": "KB033",
            "title": "DNS memory limit",
            "severity": "warning",
            "note": "A higher limit would have held.",
            "url": "http://testserver/rules/KB033/",
            "api_url": "http://testserver/api/v1/rules/KB033/",
        }
    ]
    assert isinstance(body["related"], list)
    assert body["version"] == 1
    assert "curation_note" not in body


def test_curators_can_read_drafts(curator_client, stories):
    response = curator_client.get("/api/v1/stories/draft-story/")
    assert response.status_code == 200
    assert response.json()["status"] == "draft"


def test_a_cached_result_follows_writes_and_the_address_it_was_asked_at(client, stories):
    """The list item of a story from the hit cache is built once per data version and site
    address (search.hitcache.memo): a second host gets its own links, a write its new values."""
    from incidents import pagecache
    from incidents.models import Category

    def first(**extra):
        return client.get("/api/v1/stories/", {"q": "coredns"}, **extra).json()["results"][0]

    assert first()["categories"] == [{"slug": "dns", "name": "DNS"}]
    other = first(HTTP_HOST="localhost")
    assert other["url"] == "http://localhost/stories/dns-outage/"
    assert first()["url"] == "http://testserver/stories/dns-outage/"

    Category.objects.filter(slug="dns").update(name="Name resolution")  # around the services
    pagecache.bump()  # what every service write does after commit
    assert first()["categories"] == [{"slug": "dns", "name": "Name resolution"}]
