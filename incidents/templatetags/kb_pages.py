"""Pagination links: the page numbers to show, computed in Python.

The template loop it replaces walked every page number with several filters each, which cost
milliseconds once a list had hundreds of pages (10,000 stories at 30 a page).
"""

from __future__ import annotations

from django import template
from django.core.paginator import Page

register = template.Library()


@register.filter
def page_window(page: Page, around: int = 2) -> list[int | None]:
    """First, last and the pages within `around` of the current one; None marks a gap of two
    or more pages (a gap of one shows that page instead)."""
    last = page.paginator.num_pages
    current = page.number
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    out: list[int | None] = []
    previous = 0
    for n in shown:
        if previous and n - previous == 2:
            out.append(previous + 1)
        elif previous and n - previous > 2:
            out.append(None)
        out.append(n)
        previous = n
    return out
