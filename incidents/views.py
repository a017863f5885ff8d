"""Server-rendered pages. Thin: fetch through selectors, render a template."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from incidents import selectors
from incidents.models import Category, Rule, Technology


def story_list(request: HttpRequest) -> HttpResponse:
    stories = selectors.story_list()
    return render(request, "incidents/story_list.html", {"stories": stories})


def story_detail(request: HttpRequest, slug: str) -> HttpResponse:
    story = selectors.story_get(slug=slug)
    if story is None:
        raise Http404("No published story with that slug.")
    return render(request, "incidents/story_detail.html", {"story": story})


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug)
    stories = selectors.story_list().filter(categories=category)
    return render(
        request, "incidents/story_list.html", {"stories": stories, "heading": category.name}
    )


def technology_detail(request: HttpRequest, slug: str) -> HttpResponse:
    technology = get_object_or_404(Technology, slug=slug)
    stories = selectors.story_list().filter(technologies=technology)
    return render(
        request, "incidents/story_list.html", {"stories": stories, "heading": technology.name}
    )


def rule_detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    rule = get_object_or_404(Rule, rule_id=rule_id, active=True)
    stories = selectors.story_links_for_rules([rule.rule_id])[rule.rule_id]
    return render(request, "incidents/rule_detail.html", {"rule": rule, "stories": stories})
