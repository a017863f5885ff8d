"""Story search for the list endpoints: one search, read a page at a time, in a chosen order.

`incidents.search.search()` orders by relevance only. The other orders the API offers (year,
title, publication date) are applied here to the first MAX_ORDERED_HITS hits, with a unique
tie-breaker so that pages are stable. When the search interface takes an `ordering` itself,
StorySearch hands it over and this sort goes away.
"""

from __future__ import annotations

from collections.abc import Mapping

from incidents import search
from incidents.search.documents import Hit, SearchResults

RELEVANCE = "relevance"
MAX_ORDERED_HITS = 1000
BATCH = 100  # hits per search call when reading every hit for a non-relevance order
ORDER_KEYS = {
    "year": lambda h: (h.story.year, h.story.title.lower(), h.story.pk),
    "-year": lambda h: (-h.story.year, h.story.title.lower(), h.story.pk),
    "title": lambda h: (h.story.title.lower(), h.story.pk),
    "-title": lambda h: (h.story.title.lower(), h.story.pk),  # reversed below
    "-published_at": lambda h: (
        -(h.story.published_at.timestamp() if h.story.published_at else 0),
        h.story.pk,
    ),
}
ORDERINGS = (RELEVANCE, *ORDER_KEYS)


class StorySearch:
    """The published stories matching `q` and `filters` in `ordering`, as a sequence a paginator
    slices: `window(page, per_page)` runs the search for that page; `count()` / `len()` is the
    total and slicing that window returns its hits. `results` keeps the search's facets,
    suggestion and correction for the response.
    """

    def __init__(
        self,
        q: str,
        *,
        filters: Mapping[str, list[str]],
        ordering: str = RELEVANCE,
        correct: bool = True,
    ):
        if ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {ordering!r}")
        self.q, self.filters, self.ordering, self.correct = q, dict(filters), ordering, correct
        self.results: SearchResults | None = None
        self._start = 0
        self._hits: list[Hit] = []

    def window(self, *, page: int, per_page: int) -> None:
        start = (page - 1) * per_page
        if self.ordering == RELEVANCE:
            self.results = self._search(page=page, per_page=per_page)
            hits = self.results.hits
        else:
            hits = self._ordered()[start : start + per_page]
        self._start, self._hits = start, list(hits)

    def count(self) -> int:
        if self.results is None:
            self.window(page=1, per_page=BATCH)
        return self.results.total

    __len__ = count

    def __getitem__(self, window: slice) -> list[Hit]:
        offset = (window.start or 0) - self._start
        return self._hits[offset : offset + (window.stop - window.start)]

    def _search(self, *, page: int, per_page: int) -> SearchResults:
        return search.search(
            self.q,
            filters=self.filters,
            page=page,
            per_page=per_page,
            highlight=bool(self.q) or self.ordering == RELEVANCE,
            correct=self.correct,
        )

    def _ordered(self) -> list[Hit]:
        """Every hit (up to MAX_ORDERED_HITS), sorted by ORDER_KEYS."""
        hits: list[Hit] = []
        batch = 1
        while True:
            results = self._search(page=batch, per_page=BATCH)
            hits.extend(results.hits)
            if not results.hits or len(hits) >= min(results.total, MAX_ORDERED_HITS):
                break
            batch += 1
        self.results = results
        hits.sort(key=ORDER_KEYS[self.ordering], reverse=self.ordering == "-title")
        return hits
