"""Pagination links: first, last and two either side of the current page, gaps marked."""

from __future__ import annotations

from django.core.paginator import Paginator

from incidents.templatetags.kb_pages import page_window


def window(number: int, pages: int) -> list[int | None]:
    return page_window(Paginator(range(pages * 10), 10).page(number))


def test_the_window_around_the_current_page():
    assert window(1, 1) == [1]
    assert window(1, 5) == [1, 2, 3, 4, 5]
    assert window(1, 323) == [1, 2, 3, None, 323]
    assert window(50, 323) == [1, None, 48, 49, 50, 51, 52, None, 323]
    assert window(4, 323) == [1, 2, 3, 4, 5, 6, None, 323]
    assert window(323, 323) == [1, None, 321, 322, 323]
