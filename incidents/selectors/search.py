"""Story search for the list endpoints: one search per page, in a chosen order.

The search interface orders (`incidents.search.search(..., ordering=...)`: each backend sorts
where it stores the values and reads only the page), so this is a pager: DRF's pagination
class slices a StorySearch as it would a queryset.
"""

from __future__ import annotations

from collections.abc import Mapping

from incidents import search
from incidents.search.documents import Hit, SearchResults
from incidents.search.fields import ORDERINGS, RELEVANCE

__all__ = ["ORDERINGS", "RELEVANCE", "StorySearch"]


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
        """Search for the page `page` of `per_page` hits (one search, that page only)."""
        self.results = search.search(
            self.q,
            filters=self.filters,
            page=page,
            per_page=per_page,
            ordering=self.ordering,
            correct=self.correct,
        )
        # search() caps the page number (MAX_PAGE): a capped page's hits are not this page's.
        same = (self.results.page, self.results.per_page) == (page, per_page)
        self._start, self._hits = (page - 1) * per_page, self.results.hits if same else []

    def count(self) -> int:
        if self.results is None:
            self.window(page=1, per_page=10)
        return self.results.total

    __len__ = count

    def __getitem__(self, window: slice) -> list[Hit]:
        offset = (window.start or 0) - self._start
        return self._hits[offset : offset + (window.stop - window.start)]
