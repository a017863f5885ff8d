"""Story links for findings, read from the curated story files shipped with the package.

`kbcheck` runs without Django and without a database, so the stories a finding links to come
from `incidents/data/stories/<slug>.md`: only the YAML front matter of the stories the printed
rules name is read, once per story and run (about 0.2 ms a file). Which stories a rule links
to is the rule's `stories`, which the registry takes from `incidents/data/story_rules.yaml`
(`incidents.rules.links`).

A story is linked when its file exists and says `status: published`, as on the public site;
its URL is `<site_url>/stories/<slug>/`, the path of the site's story page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from incidents.rules.base import SLUG

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
STORIES_DIR = DATA_DIR / "stories"
# The public site's address when nothing else is configured; kb/settings.py uses the same value
# for SITE_URL, so the CLI and the site print the same links by default.
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
FIELDS = ("slug", "title", "organisation", "year", "source_url")


def story_path(slug: str) -> str:
    """The site path of a story page (incidents.urls: `stories/<slug:slug>/`)."""
    return f"/stories/{slug}/"


def rule_path(rule_id: str) -> str:
    """The site path of a rule page (incidents.urls: `rules/<rule_id>/`)."""
    return f"/rules/{rule_id}/"


def read_front_matter(path: Path) -> dict[str, Any] | None:
    """The YAML mapping between the leading `---` lines of a story file, or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 3)
    if end < 0:
        return None
    try:
        meta = yaml.load(text[4:end], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    return meta if isinstance(meta, dict) else None


class StoryFiles:
    """A story_resolver for `incidents.rules.formats`: slug -> public facts, or None."""

    def __init__(self, site_url: str = DEFAULT_SITE_URL, directory: Path = STORIES_DIR):
        self.site_url = site_url.rstrip("/")
        self.directory = directory
        self._cache: dict[str, dict[str, Any] | None] = {}

    def __call__(self, slug: str) -> dict[str, Any] | None:
        if slug not in self._cache:
            self._cache[slug] = self._load(slug)
        return self._cache[slug]

    def _load(self, slug: str) -> dict[str, Any] | None:
        if not SLUG.match(slug or ""):
            return None
        meta = read_front_matter(self.directory / f"{slug}.md")
        if meta is None or meta.get("status") != "published" or meta.get("slug") != slug:
            return None
        story = {name: meta.get(name) for name in FIELDS}
        story["url"] = self.site_url + story_path(slug)
        return story

    def rule_url(self, rule_id: str) -> str:
        return self.site_url + rule_path(rule_id)
