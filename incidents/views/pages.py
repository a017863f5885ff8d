"""What the pages share: browse counts and facets, newest and related stories, list items and
pagination.

The reads are selectors' (incidents.selectors.browse); what is the same for every reader is
kept here once per data version (incidents.pagecache) and shaped for the templates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from html import unescape

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import get_language

from incidents import pagecache, selectors
from incidents.markdown import render_markdown
from incidents.models import Platform, SourceKind, Story

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Facet:
    """One browsable value with its number of published stories."""

    slug: str
    name: str
    count: int
    url: str


NEWEST = 12  # newest published stories kept in the browse counts


def browse_counts() -> selectors.BrowseCounts:
    """Published-story counts per category, technology and platform, the number of stories and
    organisations, and the newest story IDs: the same for every reader, so computed once per
    data version (incidents.pagecache) instead of on every home, search and overview page."""
    return pagecache.cached("browse-counts", lambda: selectors.browse_counts(newest=NEWEST))


def _chinese() -> bool:
    return get_language() == "zh-hans"


def categories_with_counts() -> list[Facet]:
    counts = browse_counts()["categories"]
    zh = _chinese()
    return [
        Facet(c.slug, c.name_zh if zh and c.name_zh else c.name, counts[c.pk], c.get_absolute_url())
        for c in selectors.categories_by_ids(counts)
    ]


def technologies_with_counts(limit: int | None = None) -> list[Facet]:
    counts = browse_counts()["technologies"]
    rows = selectors.technologies_by_ids(counts)
    rows.sort(key=lambda t: -counts[t.pk])
    if limit:
        rows = rows[:limit]
    return [Facet(t.slug, t.name, counts[t.pk], t.get_absolute_url()) for t in rows]


def platforms_with_counts() -> list[Facet]:
    counts = browse_counts()["platforms"]
    return [
        Facet(value, label, counts[value], reverse("incidents:platform", args=[value]))
        for value, label in Platform.choices
        if counts.get(value)
    ]


def newest_stories(limit: int = 6) -> list[Story]:
    """Published most recently first (selectors.newest_story_ids)."""
    return selectors.stories_by_ids(browse_counts()["newest"][:limit])


def related_stories(story: Story, limit: int = 5) -> list[tuple[Story, list[str]]]:
    """Stories like this one (see _related_stories), worked out once per data version: the
    more-like-this query is most of a story page's time with 10,000 stories."""
    found = pagecache.cached(
        f"related:{story.pk}:{limit}",
        lambda: [(s.pk, terms) for s, terms in _related_stories(story, limit)],
    )
    by_pk = {s.pk: s for s in selectors.stories_by_ids(pk for pk, _ in found)}
    return [(by_pk[pk], terms) for pk, terms in found if pk in by_pk]


def _related_stories(story: Story, limit: int = 5) -> list[tuple[Story, list[str]]]:
    """Stories like this one: the search engine's more-like-this, or shared tags without it.

    Related stories are a courtesy, so a search backend failure degrades to the tag overlap
    instead of breaking the story page.
    """
    from incidents import search

    try:
        return [(s, list(terms)) for s, terms in search.more_like_this(story, limit)]
    except Exception:  # any backend failure: fall back, but say so in the log
        logger.warning("more_like_this failed for %s; using shared tags", story.slug, exc_info=True)
    return [(s, []) for s in selectors.stories_sharing_tags(story, limit=limit)]


class UrlMaker:
    """Reverse a slug route once, then fill in slugs: list pages link hundreds of tags, and
    `reverse()` per link was a third of their render time."""

    def __init__(self, name: str):
        self._template = reverse(name, args=["__slug__"])

    def __call__(self, slug: str) -> str:
        return self._template.replace("__slug__", slug)


@lru_cache(maxsize=4096)
def excerpt(markdown_text: str, words: int = 40) -> str:
    """The first `words` words of a Markdown field as plain text."""
    text = strip_tags(render_markdown(markdown_text))
    return Truncator(unescape(text)).words(words, truncate=" …")


def decorate(stories: Iterable[Story], *, words: int = 40, max_tech: int = 5) -> list[Story]:
    """Attach what list items show (url, excerpt, tag links, platform and source labels) to each
    story, computed once.

    The labels come from one translated table per call: `get_platform_display()` rebuilds and
    hashes the whole choice list (translating every label) on each call, which was a fifth of a
    30-story list page's time.
    """
    story_url, cat_url, tech_url = (
        UrlMaker("incidents:story"),
        UrlMaker("incidents:category"),
        UrlMaker("incidents:technology"),
    )
    platforms = {value: str(label) for value, label in Platform.choices}
    kinds = {value: str(label) for value, label in SourceKind.choices}
    out = []
    for story in stories:
        story.url = story_url(story.slug)
        story.platform_label = platforms.get(story.platform, story.platform)
        story.source_kind_label = kinds.get(story.source_kind, story.source_kind)
        story.excerpt = excerpt(story.summary, words)
        story.tag_links = [(c.name, cat_url(c.slug), True) for c in story.categories.all()] + [
            (t.name, tech_url(t.slug), False) for t in list(story.technologies.all())[:max_tech]
        ]
        out.append(story)
    return out


class CachedStoryList:
    """A story list for Paginator whose count and page slices come from the page cache.

    Counting and ordering thousands of filtered stories is most of a list page's time; both
    only change with the data, so each is worked out once per data version (incidents.pagecache)
    and a page then costs one primary-key lookup of its 30 stories.
    """

    def __init__(self, queryset: QuerySet, key: str):
        self.queryset, self.key = queryset, key

    def count(self) -> int:
        return pagecache.cached(f"list:{self.key}:count", self.queryset.count)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Story]:
        start, stop = window.start or 0, window.stop
        pks = pagecache.cached(
            f"list:{self.key}:{start}:{stop}",
            lambda: list(self.queryset.values_list("pk", flat=True)[start:stop]),
        )
        # The search's loader: flat queries with the tag caches filled directly, about half the
        # cost of prefetch_related for a page of stories.
        from incidents.search.documents import load_hits_stories

        by_pk = load_hits_stories(pks, published_only=False)
        return [by_pk[pk] for pk in pks if pk in by_pk]


def paginate(request: HttpRequest, items: QuerySet | list, per_page: int) -> Page:
    """The page named by ?page=, clamped into range (a bad number is not an error page)."""
    paginator = Paginator(items, per_page)
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    number = min(max(number, 1), paginator.num_pages)
    return paginator.page(number)
