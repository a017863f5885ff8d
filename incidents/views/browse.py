"""Browsing pages: home, story lists (all, by category, technology, platform) and the story page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents import selectors
from incidents.exposure.conditions import load_exposures
from incidents.models import Platform, Story
from incidents.views import pages, rulebook

PER_PAGE = 30


def home(request: HttpRequest) -> HttpResponse:
    counts = pages.browse_counts()
    context = {
        "categories": pages.categories_with_counts(),
        "technologies": pages.technologies_with_counts(limit=24),
        "platforms": pages.platforms_with_counts(),
        "newest": pages.decorate(pages.newest_stories(6), words=24),
        "story_count": counts["stories"],
        "organisation_count": counts["organisations"],
        "rule_count": len(rulebook.all_rules()),
    }
    return render(request, "incidents/home.html", context)


def _list_page(request: HttpRequest, stories, *, key: str, **context) -> HttpResponse:
    page = pages.paginate(request, pages.CachedStoryList(stories, key), PER_PAGE)
    page.object_list = pages.decorate(page.object_list)
    return render(request, "incidents/story_list.html", {"page": page, **context})


def story_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, selectors.story_list(), key="all", heading=_("All stories"))


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug=slug)
    if category is None:
        raise Http404("No such category.")
    chinese = get_language() == "zh-hans" and bool(category.description_zh)
    return _list_page(
        request,
        selectors.story_list(category=category),
        key=f"category:{category.pk}",
        heading=category.name_zh if chinese and category.name_zh else category.name,
        kicker=_("Category"),
        description=category.description_zh if chinese else category.description,
        translated_description=chinese,
        feed_url=reverse("incidents:category_feed", args=[category.slug]),
        search_url=f"{reverse('incidents:search')}?category={category.slug}",
    )


def technology_detail(request: HttpRequest, slug: str) -> HttpResponse:
    technology = selectors.technology_get(slug=slug)
    if technology is None:
        raise Http404("No such technology.")
    return _list_page(
        request,
        selectors.story_list(technology=technology),
        key=f"technology:{technology.pk}",
        heading=technology.name,
        kicker=_("Technology"),
        description=technology.description,
        aliases=technology.aliases,
        search_url=f"{reverse('incidents:search')}?technology={technology.slug}",
    )


def platform_detail(request: HttpRequest, slug: str) -> HttpResponse:
    labels = dict(Platform.choices)
    if slug not in labels:
        raise Http404(_("No such platform."))
    return _list_page(
        request,
        selectors.story_list(platform=slug),
        key=f"platform:{slug}",
        heading=labels[slug],
        kicker=_("Platform"),
        search_url=f"{reverse('incidents:search')}?platform={slug}",
    )


def story_detail(request: HttpRequest, slug: str) -> HttpResponse:
    story: Story | None = selectors.story_get(slug=slug)
    if story is None:
        raise Http404(_("No published story with that slug."))
    rules = rulebook.rules_for_story(story)
    context = {
        "story": story,
        "rules": rules,
        "manifest_rules": [r for r in rules if r.kind == "manifest"],
        "related": pages.related_stories(story, limit=5),
        "exposure": load_exposures().get(story.slug),
        "permalink": request.build_absolute_uri(story.get_absolute_url()),
    }
    return render(request, "incidents/story_detail.html", context)
