"""4 curator processes x 50 edits on the same stories through the API under gunicorn: every
edit lands or gets 412, none is silently lost, and the search index matches the database."""

from __future__ import annotations

import json
import multiprocessing
import string

import pytest

from tests.reliability import harness
from tests.reliability.conftest import report

PROCESSES = 4
EDITS = 50


def marker(name: str, i: int) -> str:
    """A unique, searchable word (letters only, so no tokenizer or stemmer splits it)."""
    letters = string.ascii_lowercase
    return f"zq{name}{letters[i // 26]}{letters[i % 26]}q"


def run_curator(base: str, token: str, slugs: list[str], name: str, edits: int) -> list:
    results = []
    for i in range(edits):
        slug = slugs[i % len(slugs)]
        mark = marker(name, i)
        try:
            status, version = harness.edit_story(base, token, slug, mark)
        except OSError:
            status, version = 0, None
        results.append((slug, status, version, mark))
    return results


def published_slugs(base: str, count: int) -> list[str]:
    reply = harness.request(base, "GET", "/api/v1/stories/?ordering=title&per_page=20")
    assert reply.status == 200, reply.body[:300]
    return [story["slug"] for story in reply.json()["results"][:count]]


def versions(base: str, token: str, slugs: list[str]) -> dict[str, int]:
    out = {}
    for slug in slugs:
        reply = harness.request(
            base, "GET", f"/api/v1/stories/{slug}/", headers=harness.auth(token)
        )
        out[slug] = reply.json()["version"]
    return out


def search_slugs(base: str, word: str) -> list[str]:
    reply = harness.request(base, "GET", f"/api/v1/stories/?q={word}")
    assert reply.status == 200, reply.body[:300]
    return [story["slug"] for story in reply.json()["results"]]


def history_markers(site: harness.Site, slugs: list[str]) -> dict[str, list[str]]:
    out = site.python(
        "import json, re\n"
        "from incidents.models import Story\n"
        f"slugs = {slugs!r}\n"
        "found = {}\n"
        "for s in Story.objects.filter(slug__in=slugs):\n"
        "    found[s.slug] = [m for h in s.history.all()\n"
        "                     for m in re.findall(r'Edit marker: (\\w+)', h.fix)]\n"
        "print(json.dumps(found))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_concurrent_curators_lose_no_edit_and_the_index_matches(kind, tmp_path, capsys):
    with harness.site(kind, tmp_path) as site, harness.Server(site, workers=2, threads=4) as srv:
        slugs = published_slugs(srv.base, 3)
        before = versions(srv.base, site.token, slugs)
        names = [string.ascii_lowercase[n] for n in range(PROCESSES)]
        context = multiprocessing.get_context("spawn")
        with context.Pool(PROCESSES) as pool:
            pending = pool.starmap_async(
                run_curator, [(srv.base, site.token, slugs, name, EDITS) for name in names]
            )
            results = [r for per_process in pending.get(timeout=300) for r in per_process]

        statuses = [status for _, status, _, _ in results]
        assert len(results) == PROCESSES * EDITS
        assert set(statuses) <= {200, 412}, sorted(set(statuses))
        after = versions(srv.base, site.token, slugs)
        landed: dict[str, list[tuple[int, str]]] = {slug: [] for slug in slugs}
        for slug, status, version, mark in results:
            if status == 200:
                landed[slug].append((version, mark))
        recorded = history_markers(site, slugs)
        for slug in slugs:
            # Each landed edit produced exactly one new version: none overwrote another unseen.
            claimed = sorted(v for v, _ in landed[slug])
            assert claimed == list(range(before[slug] + 1, after[slug] + 1)), slug
            # ... and each one is in the story's history.
            assert sorted(recorded[slug]) == sorted(m for _, m in landed[slug]), slug
        index = site.index_report()
        assert index["ok"], index
        for slug in slugs:
            last = max(landed[slug])[1]
            assert search_slugs(srv.base, last) == [slug]
            first = min(landed[slug])[1]
            if first != last:
                assert search_slugs(srv.base, first) == []
        report(
            capsys,
            f"concurrent curators ({kind})",
            edits=len(results),
            landed=statuses.count(200),
            precondition_failed=statuses.count(412),
        )
