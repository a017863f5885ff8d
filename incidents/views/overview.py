"""The overview: the dataset in pictures, and how well the rules cover the stories."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents import charts, pagecache, selectors
from incidents.models import SourceKind
from incidents.views import pages, rulebook

MATRIX_ROWS = 100  # stories drawn in the coverage matrix, most-covered first
LIST_LIMIT = 100  # stories named in the "no rule catches it yet" list


@dataclass(frozen=True)
class StoryRow:
    """What the overview shows of a story (a plain value: the page is cached)."""

    slug: str
    title: str
    organisation: str
    year: int

    def get_absolute_url(self) -> str:
        return reverse("incidents:story", args=[self.slug])


def coverage() -> dict:
    """Which published stories each rule catches (the curated story-rule links).

    With tens of thousands of stories the matrix and the gap list show the first MATRIX_ROWS
    and LIST_LIMIT stories and say how many there are in all.
    """
    stories = [StoryRow(*row) for row in selectors.published_story_rows()]
    rules = rulebook.all_rules()
    published = {s.slug for s in stories}
    links = {(slug, rule_id) for slug, rule_id in selectors.link_pairs() if slug in published}
    per_story: dict[str, int] = {}
    for slug, _rule in links:
        per_story[slug] = per_story.get(slug, 0) + 1
    stories.sort(key=lambda s: (-per_story.get(s.slug, 0), s.title.lower()))
    backed = {r for _, r in links}
    uncaught = [s for s in stories if s.slug not in per_story]
    shown = stories[:MATRIX_ROWS]
    shown_slugs = {s.slug for s in shown}
    return {
        "stories": shown,
        "total": len(stories),
        "rules": rules,
        "links": {(s, r) for s, r in links if s in shown_slugs},
        "uncaught": uncaught[:LIST_LIMIT],
        "uncaught_count": len(uncaught),
        "unbacked": [r for r in rules if r.id not in backed],
        "caught_count": len(per_story),
    }


def _context() -> dict:
    years = sorted(selectors.published_counts("year").items())
    kinds = selectors.published_counts("source_kind")
    categories = pages.categories_with_counts()
    categories.sort(key=lambda f: (-f.count, f.name))
    platforms = pages.platforms_with_counts()
    platforms.sort(key=lambda f: -f.count)
    cov = coverage()
    context = {
        "total": cov["total"],
        # Every year in the range, so a year without stories shows as a gap, not as nothing.
        "years": [
            charts.Bar(str(y), dict(years).get(y, 0))
            for y in (range(years[0][0], years[-1][0] + 1) if years else ())
        ],
        "categories": [charts.Bar(str(c.name), c.count, c.url) for c in categories],
        "platforms": [charts.Bar(str(p.name), p.count, p.url) for p in platforms],
        "kinds": sorted(
            (charts.Bar(str(label), kinds[v]) for v, label in SourceKind.choices if kinds.get(v)),
            key=lambda b: -b.value,
        ),
        "coverage": {**cov, "rules": [(r.id, r.title) for r in cov["rules"]]},
        "unbacked": [(r.id, r.title) for r in cov["unbacked"]],
    }
    context["coverage"]["unbacked"] = context.pop("unbacked")
    context["year_chart"] = charts.column_chart(context["years"], title=_("Stories per year"))
    context["category_chart"] = charts.hbar_chart(
        context["categories"], title=_("Stories per category")
    )
    context["platform_chart"] = charts.hbar_chart(
        context["platforms"], title=_("Stories per platform"), variant=2
    )
    context["kind_chart"] = charts.hbar_chart(
        context["kinds"], title=_("Stories per kind of source"), variant=3
    )
    context["matrix"] = charts.coverage_matrix(
        [
            charts.MatrixRow(s.slug, f"{s.title} ({s.organisation}, {s.year})")
            for s in cov["stories"]
        ],
        [charts.MatrixRow(r.id, r.title) for r in cov["rules"]],
        cov["links"],
        title=_("Coverage: which rules catch which stories"),
    )
    return context


def overview(request: HttpRequest) -> HttpResponse:
    # The same for every reader of a language: computed once per data version and language.
    context = pagecache.cached(f"overview:{get_language()}", _context)
    return render(request, "incidents/overview.html", context)
