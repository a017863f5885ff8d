"""Reads. Views, the API, chat replies, feeds and commands fetch stories and links through here.

- `stories`: published stories, one story, stories by slug, and the story lookup that check and
  exposure reports use to turn a linked slug into a title and an address.
- `links`: the story-rule links, both ways (rules for a story, stories for rules). The links'
  owner is `incidents/data/story_rules.yaml`; these read the StoryRule rows `load_stories`
  mirrors from it.
- `rules`: the registry's rules filtered or looked up, joined with their linked stories.
- `search`: a story search read a page at a time in a chosen order (the API's story list).
- `browse`: counts and lists for browsing (home, story lists, overview, feeds, sitemaps).
- `tokens`: API tokens (authentication, `manage_api_tokens`).
- `export`: what `export_stories` writes, in a stable order.

Writes are in `incidents.services`; full-text search is `incidents.search`.
"""

from incidents.selectors.browse import (
    BrowseCounts,
    browse_counts,
    categories_by_ids,
    category_get,
    newest_published,
    newest_story_ids,
    published_counts,
    published_last_modified,
    published_story_rows,
    sitemap_story_rows,
    stories_by_ids,
    stories_sharing_tags,
    technologies_by_ids,
    technology_get,
    vocabulary_by_slug,
)
from incidents.selectors.export import (
    category_list,
    links_for_export,
    stories_for_export,
    technology_list,
)
from incidents.selectors.links import (
    LinkedStory,
    link_pairs,
    prefetch_rule_links,
    rule_ids_by_story,
    rule_links_prefetch,
    rules_for_story,
    stories_for_rule,
    stories_for_rules,
)
from incidents.selectors.rules import RuleView, rule_list, rule_lookup, rule_views, rules_synced
from incidents.selectors.search import StorySearch
from incidents.selectors.stories import (
    StoryLookup,
    published_story_facts,
    report_story_resolver,
    stories_by_slugs,
    story_get,
    story_list,
    story_resolver,
    story_with_source_url_exists,
)
from incidents.selectors.tokens import api_token_by_prefix, api_token_list, user_get

__all__ = [
    "BrowseCounts",
    "LinkedStory",
    "RuleView",
    "StoryLookup",
    "StorySearch",
    "api_token_by_prefix",
    "api_token_list",
    "browse_counts",
    "categories_by_ids",
    "category_get",
    "category_list",
    "link_pairs",
    "links_for_export",
    "newest_published",
    "newest_story_ids",
    "prefetch_rule_links",
    "published_counts",
    "published_last_modified",
    "published_story_facts",
    "published_story_rows",
    "report_story_resolver",
    "rule_ids_by_story",
    "rule_links_prefetch",
    "rule_list",
    "rule_lookup",
    "rule_views",
    "rules_for_story",
    "rules_synced",
    "sitemap_story_rows",
    "stories_by_ids",
    "stories_by_slugs",
    "stories_for_export",
    "stories_for_rule",
    "stories_for_rules",
    "stories_sharing_tags",
    "story_get",
    "story_list",
    "story_resolver",
    "story_with_source_url_exists",
    "technologies_by_ids",
    "technology_get",
    "technology_list",
    "user_get",
    "vocabulary_by_slug",
]
