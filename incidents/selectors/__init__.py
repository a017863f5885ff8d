"""Reads. Views, the API, chat replies, feeds and commands fetch stories and links through here.

- `stories`: published stories, one story, stories by slug, and the story lookup that check and
  exposure reports use to turn a linked slug into a title and an address.
- `links`: the story-rule links, both ways (rules for a story, stories for rules). The links'
  owner is `incidents/data/story_rules.yaml`; these read the StoryRule rows `load_stories`
  mirrors from it.
- `rules`: the registry's rules filtered or looked up, joined with their linked stories.
- `search`: a story search read a page at a time in a chosen order (the API's story list).

Writes are in `incidents.services`; full-text search is `incidents.search`.
"""

from incidents.selectors.links import (
    LinkedStory,
    link_pairs,
    rule_ids_by_story,
    rule_links_prefetch,
    rules_for_story,
    stories_for_rule,
    stories_for_rules,
)
from incidents.selectors.rules import RuleView, rule_list, rule_lookup, rule_views
from incidents.selectors.search import StorySearch
from incidents.selectors.stories import (
    StoryLookup,
    published_story_facts,
    report_story_resolver,
    stories_by_slugs,
    story_get,
    story_list,
    story_resolver,
)

__all__ = [
    "LinkedStory",
    "RuleView",
    "StoryLookup",
    "StorySearch",
    "link_pairs",
    "published_story_facts",
    "report_story_resolver",
    "rule_ids_by_story",
    "rule_links_prefetch",
    "rule_list",
    "rule_lookup",
    "rule_views",
    "rules_for_story",
    "stories_by_slugs",
    "stories_for_rule",
    "stories_for_rules",
    "story_get",
    "story_list",
    "story_resolver",
]
