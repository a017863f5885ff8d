"""The sitemap: every published story, category, technology and rule, and the fixed pages.

`/sitemap.xml` is a sitemap index pointing at one sitemap per section (`/sitemap-stories.xml`,
paged by `?p=` at STORY_PAGE stories), so no single response lists tens of thousands of URLs.
"""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from incidents import pagecache, selectors
from incidents.views.pages import browse_counts

STORY_PAGE = 500


class StorySitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8
    limit = STORY_PAGE

    def items(self):
        # Named rows, not model instances: building 500 deferred Story objects was most of a
        # page's time once the rows come straight from the story_status_slug index.
        return selectors.sitemap_story_rows()

    def location(self, item) -> str:
        # One reverse() per page, not per story.
        if not hasattr(self, "_story_url"):
            self._story_url = reverse("incidents:story", args=["__slug__"])
        return self._story_url.replace("__slug__", item.slug)

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        # The index's <lastmod>: one aggregate per data version, not a max over every item.
        return pagecache.cached("sitemap-lastmod", selectors.published_last_modified)


class VocabularySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        # Categories and technologies with published stories, from the shared browse counts.
        counts = browse_counts()
        return selectors.vocabulary_by_slug(counts["categories"], counts["technologies"])


class RuleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self) -> list[str]:
        from incidents.rules.registry import REGISTRY

        return [rule.id for rule in REGISTRY.all()]

    def location(self, item: str) -> str:
        return reverse("incidents:rule", args=[item])


class PageSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.7

    def items(self) -> list[str]:
        return ["home", "story_list", "rule_list", "check", "overview", "dataset", "suggest"]

    def location(self, item: str) -> str:
        return reverse(f"incidents:{item}")


SITEMAPS = {
    "pages": PageSitemap,
    "stories": StorySitemap,
    "topics": VocabularySitemap,
    "rules": RuleSitemap,
}
