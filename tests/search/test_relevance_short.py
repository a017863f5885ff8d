"""The short-query relevance suite (cases in `short_queries.py`): its shape, and the targets
(hit@3 at least 90% and graded nDCG@5 at least 0.8 per backend; the misses are printed)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.search.short_queries import CASES

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
