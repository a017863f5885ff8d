"""The story-rule links: which curated stories show why a rule matters, each with a note.

One owner: the curated data file `incidents/data/story_rules.yaml`. A link is a fact about a
story (the story's curator reads the source and writes the one-sentence note), so it lives with
the story files, goes through the same review, and `export_stories` / `load_stories` carry it
both ways. Rule modules do not list stories: the registry attaches each rule's `stories` from
this file when it is built, and the database's StoryRule rows are a mirror that `load_stories`
keeps equal to it (the admin shows them read-only). Plain Python and YAML, no Django: `kbcheck`
reads the links without settings or a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

LINKS_FILE = Path(__file__).resolve().parent.parent / "data" / "story_rules.yaml"


class LinksError(ValueError):
    """The links file cannot be read or is not a list of {story, rule, note} entries."""


@dataclass(frozen=True, slots=True)
class Link:
    story: str  # story slug
    rule: str  # rule ID
    note: str  # how the rule relates to the story, one sentence


def read_links(path: Path = LINKS_FILE) -> tuple[Link, ...]:
    """Every link in the file, in file order; LinksError names the first malformed entry."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LinksError(f"cannot read {path}: {exc}") from None
    if isinstance(data, dict) and "links" in data:  # export_stories writes {links: [...]}
        data = data["links"]
    return parse_links([] if data is None else data, source=str(path))


def parse_links(entries: object, *, source: str = "links") -> tuple[Link, ...]:
    """Links from already-parsed YAML: a list of mappings with string story, rule and note."""
    if not isinstance(entries, list):
        raise LinksError(f"{source}: expected a list of {{story, rule, note}} entries")
    links = []
    for number, entry in enumerate(entries, 1):
        values = (
            [entry.get(key) for key in ("story", "rule", "note")] if isinstance(entry, dict) else []
        )
        if len(values) != 3 or not all(isinstance(v, str) and v.strip() for v in values):
            raise LinksError(f"{source}: entry {number} needs story, rule and note (text)")
        links.append(Link(*(v.strip() for v in values)))
    return tuple(links)


class StoryLinks:
    """Both directions of the links: stories for a rule, rules for a story."""

    def __init__(self, links: Iterable[Link]):
        self._links = tuple(links)
        self._by_rule: dict[str, list[str]] = {}
        self._by_story: dict[str, list[str]] = {}
        self._notes: dict[tuple[str, str], str] = {}
        for link in self._links:
            if (link.rule, link.story) in self._notes:
                continue  # a repeated pair: the first note wins (tests refuse repeats)
            self._by_rule.setdefault(link.rule, []).append(link.story)
            self._by_story.setdefault(link.story, []).append(link.rule)
            self._notes[(link.rule, link.story)] = link.note

    def stories_for_rule(self, rule_id: str) -> tuple[str, ...]:
        return tuple(self._by_rule.get(rule_id, ()))

    def rules_for_story(self, slug: str) -> tuple[str, ...]:
        return tuple(self._by_story.get(slug, ()))

    def note(self, rule_id: str, slug: str) -> str:
        return self._notes.get((rule_id, slug), "")

    def __iter__(self) -> Iterator[Link]:
        return iter(self._links)

    def __len__(self) -> int:
        return len(self._links)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
