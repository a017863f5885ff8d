"""Page parts computed in Python where a template loop cost milliseconds at 10,000 stories.

`page_window`: the pagination's page numbers (the loop it replaces walked every page number with
several filters each). `facet_options`: the search filters' checkboxes (a hundred and more
technologies, each a dozen template nodes, were a third of the search page's render).
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.core.paginator import Page
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()
CHECKED = mark_safe(" checked")


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


@register.filter
def facet_options(values: Iterable, key: str) -> SafeString:
    """One checkbox list item per facet value (FacetValue: value, label, count, checked)."""
    return format_html_join(
        "\n",
        '<li><label><input type="checkbox" name="{}" value="{}"{}>'
        '<span class="value">{}</span><span class="n">{}</span></label></li>',
        ((key, v.value, CHECKED if v.checked else "", v.label, v.count) for v in values),
    )
