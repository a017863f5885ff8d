"""The Whoosh backend picks a page without scoring every matching story (incidents.search.
whoosh_backend._top skips stories that only common words match): the pages must be exactly
those of scoring every matching story, scores and tie-breaking included."""

from __future__ import annotations

import heapq
import random

import pytest

from incidents import search
from incidents.search import engine, whoosh_backend
from incidents.search.query import parse

COMMON = ["cluster", "pods", "traffic", "nodes"]  # in every story: low IDF, pruned
RARE = ["conntrack", "etcd", "throttling", "certificate", "ingress", "autoscaler", "quorum"]


@pytest.fixture
def stories(make_story, search_index, settings):
    settings.KB_SEARCH_BACKEND = "whoosh"
    rng = random.Random(5)
    for i in range(80):
        words = COMMON + rng.sample(RARE, rng.randint(0, 3)) * rng.randint(1, 3)
        rng.shuffle(words)
        make_story(
            slug=f"s{i}",
            title=f"Story {i}",
            summary=" ".join(words),
            symptom=" ".join(rng.sample(COMMON, 2)),
            contributing_factors="",
            fix="",
            detection="",
            impact="",
            technologies=[],
            provenance=rng.choice(["full", "listing"]),
        )
    search_index()


def every_story_scored(plan: engine.QueryPlan) -> list[tuple[int, float]]:
    """The page by the definition: every matching story scored, then the best `want`."""
    view = whoosh_backend.STATE.get()
    groups = [whoosh_backend._group(view, g) for g in plan.groups]
    allowed = whoosh_backend._allowed(view, plan.filters, plan.published_only)
    matched_any = 0
    for g, group in zip(groups, plan.groups, strict=True):
        matched_any |= g.docs
        if group.required:
            allowed &= g.docs
    member = (allowed & matched_any).to_bytes(view.n, "little")
    scores: dict[int, float] = {}
    matched: dict[int, int] = {}
    for g in groups:
        for d, v in g.scores.items():
            if member[d]:
                scores[d] = scores.get(d, 0.0) + v
                matched[d] = matched.get(d, 0) + 1
    share = engine.COORD / len(groups)
    items = [(v * (1 + share * matched[d]), d) for d, v in scores.items()]
    rank = view.provenance_rank
    best = heapq.nlargest(
        plan.page * plan.per_page, items, key=lambda x: (x[0], rank.get(x[1], 0), -view.pk[x[1]])
    )
    return [(view.pk[d], score) for score, d in best[plan.offset :]]


QUERIES = [
    "conntrack",
    "cluster",
    "conntrack cluster pods",
    "etcd quorum traffic nodes",
    "throttling certificate cluster pods traffic nodes",
    "ingress autoscaler",
    "cluster pods",
    '"cluster pods" etcd',
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize(("page", "per_page"), [(1, 1), (1, 5), (2, 5), (3, 7), (1, 100)])
def test_pages_are_those_of_scoring_every_matching_story(stories, query, page, per_page):
    plan = engine.plan(parse(query), page=page, per_page=per_page, highlight=False)
    got = [(h.story.pk, h.score) for h in engine.run(whoosh_backend, plan).hits]
    expected = [(pk, round(score, 4)) for pk, score in every_story_scored(plan)]
    assert got == expected
    assert got or page > 1


def test_common_words_alone_still_rank_every_story(stories):
    results = search.search("cluster pods", per_page=100)
    assert results.total == 80
    assert len(results.hits) == 80
