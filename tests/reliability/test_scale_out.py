"""Two app servers against one PostgreSQL (PostgreSQL search backend, Redis cache) serve the same
answers, and a write through one is found through the other right after it commits."""

from __future__ import annotations

from tests.reliability import harness
from tests.reliability.conftest import report

QUERIES = [
    "/api/v1/stories/?q=dns+timeouts",
    "/api/v1/stories/?q=pods+pending+no+free+ip",
    "/api/v1/stories/?q=OOMKilled&platform=gke",
    "/api/v1/stories/?category=networking&ordering=title",
    "/api/v1/stories/?q=502+during+rolling+deploy&per_page=5&page=1",
    "/api/v1/rules/",
]


def results(base: str, path: str):
    # One public host name for both, as behind a load balancer (absolute links use it).
    reply = harness.request(base, "GET", path, headers={"Host": "kb.test"})
    assert reply.status == 200, (path, reply.body[:300])
    return reply.json()


def test_two_servers_share_one_database_search_and_cache(tmp_path, capsys):
    with (
        harness.site("postgres", tmp_path) as site,
        harness.Server(site, workers=2, threads=2) as one,
        harness.Server(site, workers=2, threads=2) as two,
    ):
        for path in QUERIES:
            assert results(one.base, path) == results(two.base, path), path

        slugs = [s["slug"] for s in results(one.base, "/api/v1/stories/?ordering=title")["results"]]
        visible_after = []
        for n, slug in enumerate(slugs[:10]):
            writer, reader = (one, two) if n % 2 == 0 else (two, one)
            word = f"zqscale{'abcdefghij'[n]}q"
            status, _ = harness.edit_story(writer.base, site.token, slug, word)
            assert status == 200
            # Right after the PATCH returns (the commit and its index update are done), the
            # other server finds the story by the new word, and the detail shows the edit.
            found = results(reader.base, f"/api/v1/stories/?q={word}")
            assert [s["slug"] for s in found["results"]] == [slug]
            detail = harness.request(reader.base, "GET", f"/api/v1/stories/{slug}/").json()
            assert word in detail["fix"]
            visible_after.append(found["count"])
        report(capsys, "scale-out", writes=len(visible_after), all_visible_immediately=True)
