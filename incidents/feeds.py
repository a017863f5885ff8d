"""Atom feeds of newly published stories: all of them, and one per category."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from incidents import selectors
from incidents.markdown import render_markdown
from incidents.models import Category, Story

ITEMS = 30
# Saves this close to the creation belong to it (load_stories writes a story, then its hash).
EDITED_AFTER = timedelta(minutes=1)


class StoryFeed(Feed):
    feed_type = Atom1Feed
    title = "Kubernetes Failure KB: new stories"
    subtitle = "Public Kubernetes failure stories, newest first."

    def link(self) -> str:
        return reverse("incidents:story_list")

    def items(self):
        return selectors.newest_published(limit=ITEMS)

    def item_title(self, item: Story) -> str:
        return f"{item.title} ({item.organisation}, {item.year})"

    def item_description(self, item: Story) -> str:
        # Rendered by the one sanitising Markdown path; the feed escapes it as HTML content.
        return render_markdown(item.summary)

    def item_link(self, item: Story) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Story):
        return item.published_at or item.created_at

    def item_updateddate(self, item: Story):
        """The last edit made after the record was created, else its publication date: a story
        loaded at install time was not "updated" then."""
        published = item.published_at or item.created_at
        if item.updated_at - item.created_at > EDITED_AFTER:
            return max(published, item.updated_at)
        return published

    def item_author_name(self, item: Story) -> str:
        return item.organisation

    def item_categories(self, item: Story) -> list[str]:
        return [c.name for c in item.categories.all()]


class CategoryFeed(StoryFeed):
    def get_object(self, request, slug: str) -> Category:
        category = selectors.category_get(slug=slug)
        if category is None:
            raise Http404("No such category.")
        return category

    def title(self, obj: Category) -> str:
        return f"Kubernetes Failure KB: new {obj.name} stories"

    def link(self, obj: Category) -> str:
        return obj.get_absolute_url()

    def items(self, obj: Category):
        return selectors.newest_published(limit=ITEMS, category=obj)
