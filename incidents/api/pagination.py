"""Pagination of the story list: DRF's page-number pagination over a search.

The response keeps the shape clients have used since v1 (docs: README, `StoryPageSerializer`):
`count`, `page`, `per_page`, `num_pages`, `next`, `previous`, then what the search adds
(`suggestion`, `corrected`, `facets`) and `results`. A page past the last is a 404 with code
`invalid_pagination` and `num_pages` in its details; `page` and `per_page` are validated
before (incidents.api.filters), so a bad value is a 400. The search ranks at most MAX_PAGE pages
deep: `num_pages` (and the `next` links) stop there, while `count` stays the number of matches.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from incidents.api.errors import ApiError
from incidents.api.filters import DEFAULT_PER_PAGE, MAX_PER_PAGE
from incidents.search import MAX_PAGE
from incidents.search.documents import Hit
from incidents.selectors.search import StorySearch


class StoryPagination(PageNumberPagination):
    page_size = DEFAULT_PER_PAGE
    page_size_query_param = "per_page"
    max_page_size = MAX_PER_PAGE

    def paginate_queryset(self, queryset: StorySearch, request: Request, view=None) -> list[Hit]:
        """The hits of the requested page: one search for that page (StorySearch.window)."""
        self.request, self.search = request, queryset
        per_page = self.get_page_size(request)
        number = int(request.query_params.get(self.page_query_param) or 1)
        queryset.window(page=number, per_page=per_page)
        paginator = self.django_paginator_class(queryset, per_page)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise ApiError(
                f"Page {number} is past the last page ({paginator.num_pages}).",
                code="invalid_pagination",
                status_code=404,
                details={"num_pages": paginator.num_pages},
            ) from None
        return list(self.page)

    def get_next_link(self) -> str | None:
        if self.page.number >= MAX_PAGE:
            return None
        return super().get_next_link()

    def get_previous_link(self) -> str | None:
        """`page=N-1` spelt out, also for the first page, as v1 always answered."""
        if not self.page.has_previous():
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page.previous_page_number())

    def get_paginated_response(self, data: list[dict[str, Any]]) -> Response:
        from incidents.api.serializers import facets_payload

        results = self.search.results
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "page": self.page.number,
                "per_page": paginator.per_page,
                "num_pages": min(paginator.num_pages, MAX_PAGE),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "suggestion": results.suggestion or None,
                "corrected": results.corrected,
                "facets": facets_payload(results.facets),
                "results": data,
            }
        )
