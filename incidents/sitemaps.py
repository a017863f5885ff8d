"""The sitemap: every published story, category, technology and rule, and the fixed pages."""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.db.models import Count, Q
from django.urls import reverse

from incidents import selectors
from incidents.models import Category, Status, Story, Technology


class StorySitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return selectors.story_list().order_by("slug")

    def lastmod(self, item: Story):
        return item.updated_at


class VocabularySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        published = Q(stories__status=Status.PUBLISHED)
        cats = Category.objects.annotate(n=Count("stories", filter=published)).filter(n__gt=0)
        techs = Technology.objects.annotate(n=Count("stories", filter=published)).filter(n__gt=0)
        return [*cats.order_by("slug"), *techs.order_by("slug")]


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
