"""Shared helpers for the rule tests (plain Python: no database)."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"^#\s*expect:\s*(\d+)\s*$", re.MULTILINE)
PARAMS = re.compile(r"^#\s*params:\s*(.+?)\s*$", re.MULTILINE)


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.yaml"))


def fixture_expectation(path: Path) -> tuple[int, dict[str, str]]:
    """The `# expect: N` count and `# params: k=v, k2=v2` of a fixture file."""
    text = path.read_text()
    match = EXPECT.search(text)
    if match is None:
        raise AssertionError(f"{path} has no '# expect: N' comment")
    params = {}
    found = PARAMS.search(text)
    if found:
        for pair in found.group(1).split(","):
            key, _, value = pair.partition("=")
            params[key.strip()] = value.strip()
    return int(match.group(1)), params


def fake_story_resolver(slug: str) -> dict | None:
    """What the Django side supplies: a story dict for known slugs, None otherwise."""
    if slug == "unknown-story":
        return None
    return {
        "slug": slug,
        "title": f"Story {slug}",
        "organisation": "Example Org",
        "year": 2020,
        "source_url": f"https://example.com/{slug}",
        "url": f"/stories/{slug}/",
    }


def known_story_slugs() -> set[str]:
    """Slugs of the curated story files (load_stories refuses links to anything else).

    Before any story file exists, the list of planned slugs in known_story_slugs.txt stands in.
    """
    root = Path(__file__).resolve().parents[2]
    from_files = {p.stem for p in (root / "incidents" / "data" / "stories").glob("*.md")}
    if from_files:
        return from_files
    return set(Path(__file__).with_name("known_story_slugs.txt").read_text().split())
