"""Render a Report as text (for people), JSON (shared with the API), or for CI: SARIF 2.1.0
(GitHub code scanning), JUnit XML (test report views), GitLab Code Quality JSON.

    render(report, "json", story_resolver=resolve, rule_url=lambda rule_id: f"/rules/{rule_id}/")

`story_resolver(slug)` returns {"slug", "title", "organisation", "year", "source_url", "url"} for a
linked story, or None to leave it out (kbcheck reads the story files shipped in the package,
`incidents.rules.stories`; the site reads the database; tests pass a dictionary lookup).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incidents.rules.findings import Report

StoryResolver = Callable[[str], "dict[str, Any] | None"]
RuleUrl = Callable[[str], str]
FORMATS = ("text", "json", "sarif", "junit", "codequality")
STORY_FIELDS = ("slug", "title", "organisation", "year", "source_url", "url")


def default_rule_url(rule_id: str) -> str:
    return f"/rules/{rule_id}/"


def no_stories(slug: str) -> None:
    return None


class StoryCache:
    """Resolve each story slug once per render."""

    def __init__(self, resolver: StoryResolver | None):
        self._resolver = resolver or no_stories
        self._cache: dict[str, dict[str, Any] | None] = {}

    def __call__(self, slugs) -> list[dict[str, Any]]:
        stories = []
        for slug in slugs:
            if slug not in self._cache:
                story = self._resolver(slug)
                self._cache[slug] = {k: story.get(k) for k in STORY_FIELDS} if story else None
            if self._cache[slug] is not None:
                stories.append(self._cache[slug])
        return stories


def render(
    report: Report,
    fmt: str = "text",
    *,
    story_resolver: StoryResolver | None = None,
    rule_url: RuleUrl = default_rule_url,
    **options: Any,
) -> str:
    if fmt == "text":
        from incidents.rules.formats.text import render_text as renderer
    elif fmt == "json":
        from incidents.rules.formats.json import render_json as renderer
    elif fmt == "sarif":
        from incidents.rules.formats.sarif import render_sarif as renderer
    elif fmt == "junit":
        from incidents.rules.formats.junit import render_junit as renderer
    elif fmt == "codequality":
        from incidents.rules.formats.codequality import render_codequality as renderer
    else:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return renderer(report, stories=StoryCache(story_resolver), rule_url=rule_url, **options)
