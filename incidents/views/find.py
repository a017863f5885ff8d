"""The search page: query, combinable facet filters, highlights, did-you-mean, pagination.

Everything lives in the query string (GET), so a result page is a shareable URL and the back
button walks through earlier searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import search
from incidents.search import fields as search_fields
from incidents.views import pages

PER_PAGE = 20
MAX_QUERY = 200
MAX_VALUES = 20  # per filter; more is not a person clicking checkboxes
SHOWN_VALUES = 8  # facet values shown before "more"
FIELD_LABELS = {
    "contributing_factors": gettext_lazy("Contributing factors"),
    "listing_involved": gettext_lazy("Involved"),
}


@dataclass
class HitView:
    """A hit as the page shows it: the story, a highlighted title and up to two fragments."""

    story: object
    title_html: str
    fragments: list[tuple[str, list[str]]]
    matched_terms: list[str]


def _list(value) -> list[str]:
    """A highlight is one fragment or a list of them."""
    return [value] if isinstance(value, str) else list(value)


def _hit_view(hit) -> HitView:
    """The hit's story must have been through pages.decorate (one call for the whole page)."""
    highlights = dict(hit.highlights or {})
    # The search interface returns escaped HTML fragments whose only markup is <mark>.
    title = highlights.pop("title", None)
    fragments = [
        (FIELD_LABELS.get(f, f.replace("_", " ").capitalize()), [mark_safe(x) for x in _list(v)])
        for f, v in highlights.items()
        if v
    ][:2]
    return HitView(
        story=hit.story,
        title_html=mark_safe(" … ".join(_list(title))) if title else "",
        fragments=fragments,
        matched_terms=list(hit.matched_terms or []),
    )


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    checked: bool


@dataclass
class FacetGroup:
    key: str
    legend: str
    values: list[FacetValue]

    @property
    def shown(self) -> list[FacetValue]:
        return self.values[:SHOWN_VALUES]

    @property
    def more(self) -> list[FacetValue]:
        return self.values[SHOWN_VALUES:]


def _params(request: HttpRequest) -> tuple[str, dict[str, list[str]]]:
    query = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
    filters = {}
    # The page's parameters: every declared facet, and the filters the API offers too.
    for key in (f.name for f in search_fields.all_fields() if f.facet or f.api):
        values = list(dict.fromkeys(v.strip()[:100] for v in request.GET.getlist(key)))
        values = [v for v in values if v][:MAX_VALUES]
        if values:
            filters[key] = values
    return query, filters


def _qs(query: str, filters: dict[str, list[str]], **changes) -> str:
    items = [("q", query)] if query else []
    for key, values in filters.items():
        items.extend((key, v) for v in values)
    items.extend((k, v) for k, v in changes.items())
    return urlencode(items)


def _without(query: str, filters: dict[str, list[str]], key: str, value: str) -> str:
    rest = {k: [v for v in vs if not (k == key and v == value)] for k, vs in filters.items()}
    return _qs(query, {k: v for k, v in rest.items() if v})


def _facet_counts(
    query: str, filters: dict[str, list[str]], results, *, correct: bool = True
) -> dict[str, list]:
    """Counts per facet value, where a facet's own selection does not narrow its own counts.

    Values inside one facet are OR-ed, so with "GKE" ticked the "EKS" box must still say how
    many stories ticking it would add. The backend counts over all current filters; for each
    facet that has a selection, one extra count-only search without that facet supplies its
    numbers (disjunctive faceting).
    """
    counts = dict(results.facets)
    for key in (f.name for f in search_fields.facets()):
        if key in filters:
            others = {k: v for k, v in filters.items() if k != key}
            counts[key] = search.search(
                query, filters=others, page=1, per_page=1, highlight=False, correct=correct
            ).facets.get(key, [])
    return counts


def _groups(counts: dict[str, list], filters: dict[str, list[str]]) -> list[FacetGroup]:
    groups = []
    for key, legend in ((f.name, f.facet) for f in search_fields.facets()):
        chosen = set(filters.get(key, []))
        rows = [(str(v), str(label), n) for v, label, n in counts.get(key, [])]
        seen = {v for v, _, _ in rows}
        rows += [(v, v, 0) for v in filters.get(key, []) if v not in seen]
        values = [FacetValue(v, label, n, v in chosen) for v, label, n in rows]
        values.sort(key=lambda fv: (not fv.checked, fv.count == 0))  # stable: keeps backend order
        if values:
            groups.append(FacetGroup(key, legend, values))
    return groups


def search_page(request: HttpRequest) -> HttpResponse:
    query, filters = _params(request)
    try:
        number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        number = 1
    # exact=1: the query as typed, without showing a correction's results instead.
    exact = request.GET.get("exact") == "1"
    try:
        results = search.search(
            query,
            filters=filters,
            page=number,
            per_page=PER_PAGE,
            highlight=True,
            correct=not exact,
        )
        groups = _groups(_facet_counts(query, filters, results, correct=not exact), filters)
    except search.SearchQueryError as exc:
        context = {"query": query, "error": str(exc), "clear_filters": _qs(query, {})}
        return render(request, "incidents/search_error.html", context, status=400)
    labels = {(g.key, v.value): v.label for g in groups for v in g.values}
    active = [
        {
            "key": key,
            "label": _("Has a rule") if key == "has_rules" else labels.get((key, v), v),
            "remove": _without(query, filters, key, v),
        }
        for key, values in filters.items()
        for v in values
    ]
    num_pages = max(1, -(-results.total // PER_PAGE))
    pages.decorate([h.story for h in results.hits])  # once for the page, not once per hit
    context = {
        "query": query,
        "filters": filters,
        "results": results,
        "hits": [_hit_view(h) for h in results.hits],
        "groups": groups,
        "active": active,
        "has_rules": "has_rules" in filters,
        "page": _PageInfo(results.page, _Pages(num_pages, results.total)),
        "base_query": _qs(query, filters, **({"exact": "1"} if exact else {})),
        "suggestion_query": _qs(results.suggestion, filters) if results.suggestion else "",
        "original_query": _qs(query, filters, exact="1") if results.corrected else "",
        "shown_query": results.suggestion if results.corrected else query,
        "clear_filters": _qs(query, {}),
        "first": (results.page - 1) * PER_PAGE + 1,
        "last": (results.page - 1) * PER_PAGE + len(results.hits),
    }
    if not results.total:
        context["categories"] = pages.categories_with_counts()
    return render(request, "incidents/search.html", context)


@dataclass
class _Pages:
    num_pages: int
    count: int

    @property
    def page_range(self) -> range:
        return range(1, self.num_pages + 1)


@dataclass
class _PageInfo:
    """Just enough of Django's Page for partials/pagination.html (the backend paginates)."""

    number: int
    paginator: _Pages

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1
