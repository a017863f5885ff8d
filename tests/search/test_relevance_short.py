"""The short-query relevance suite (cases in `short_queries.py`): its shape, and the targets
(hit@3 at least 90% and graded nDCG@5 at least 0.8 per backend; the misses are printed)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest
from django.core.management import call_command

from incidents import search
from tests.search.short_queries import CASES, hit_at_3, ndcg_at_5

STORIES = Path(__file__).resolve().parents[2] / "incidents" / "data" / "stories"


def test_the_suite_has_sixty_short_queries_with_chinese_and_typos():
    assert len(CASES) >= 60
    assert sum(c.kind == "chinese" for c in CASES) >= 10
    assert sum(c.kind == "typo" for c in CASES) >= 10
    for case in CASES:
        words = re.findall(r"[^\s]+", case.query)
        assert 1 <= len(words) <= 3, case.query
        assert case.must, case.query


def test_every_expected_story_exists():
    slugs = {p.stem for p in STORIES.glob("*.md")}
    for case in CASES:
        assert set(case.must) | set(case.also) <= slugs, case.query


@pytest.fixture
def curated(db, backend):
    call_command("load_stories", verbosity=0)
    search.rebuild()


def test_short_queries_meet_the_targets(curated, backend):
    hits, gains, misses = [], [], []
    for case in CASES:
        top = [h.story.slug for h in search.search(case.query, per_page=5, highlight=False).hits]
        hit, ndcg = hit_at_3(case, top), ndcg_at_5(case, top)
        hits.append(hit)
        gains.append(ndcg)
        if not hit:
            misses.append(f"{case.query!r}: wanted {case.must[0]}, got {top}")
    hit3, ndcg5 = sum(hits) / len(hits), statistics.mean(gains)
    print(f"{backend}: hit@3 {hit3:.0%}, nDCG@5 {ndcg5:.3f}", *misses, sep="\n  ")
    assert hit3 >= 0.9, "\n".join(misses)
    assert ndcg5 >= 0.8
