"""Curated story files: Markdown with YAML front matter, one file per story.

`story_to_text` is the canonical serialisation: exporting a loaded file gives back the same bytes,
so curated files and the database can be diffed and round-tripped (docs/story-format.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECTIONS = [
    ("summary", "Summary"),
    ("symptom", "Symptom"),
    ("contributing_factors", "Contributing factors"),
    ("fix", "Fix"),
    ("detection", "Detection"),
    ("impact", "Impact"),
]
# Optional sections after the required ones, written only when not empty.
OPTIONAL_SECTIONS = [("summary_zh", "Summary (Simplified Chinese)")]
META_ORDER = [
    "slug", "title", "organisation", "source_url", "source_kind", "year", "date", "platform",
    "provenance", "status", "categories", "technologies",
]  # fmt: skip
FRONT_MATTER_RE = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.S)
HEADING_RE = re.compile(r"^## (?P<name>.+?)\s*$", re.M)
DATA_DIR = Path(__file__).resolve().parent / "data"
STORIES_DIR = DATA_DIR / "stories"


class StoryFileError(ValueError):
    """A story file that cannot be read; the message names the file and the problem."""


@dataclass
class StoryFile:
    meta: dict[str, Any]
    sections: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return str(self.meta["slug"])

    @property
    def source_url(self) -> str:
        return str(self.meta["source_url"])


def parse_story_text(text: str, *, name: str = "<story>") -> StoryFile:
    match = FRONT_MATTER_RE.match(text.replace("\r\n", "\n"))
    if not match:
        raise StoryFileError(f"{name}: no YAML front matter between '---' lines")
    try:
        meta = yaml.load(match.group("meta"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise StoryFileError(f"{name}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise StoryFileError(f"{name}: front matter must be a mapping")
    missing = [k for k in META_ORDER if k not in meta and k != "date"]
    if missing:
        raise StoryFileError(f"{name}: missing front matter fields: {', '.join(missing)}")
    unknown = sorted(set(meta) - set(META_ORDER))
    if unknown:
        raise StoryFileError(f"{name}: unknown front matter fields: {', '.join(unknown)}")
    body = match.group("body")
    headings = list(HEADING_RE.finditer(body))
    names = [h.group("name") for h in headings]
    expected = [title for _, title in SECTIONS]
    optional = [title for _, title in OPTIONAL_SECTIONS]
    extra = names[len(expected) :]
    if names[: len(expected)] != expected or extra != optional[: len(extra)]:
        raise StoryFileError(
            f"{name}: sections must be {expected}, optionally followed by {optional}, found {names}"
        )
    sections: dict[str, str] = {key: "" for key, _ in OPTIONAL_SECTIONS}
    keys = [key for key, _ in (*SECTIONS, *OPTIONAL_SECTIONS)]
    for key, heading, nxt in zip(keys, headings, [*headings[1:], None], strict=False):
        end = nxt.start() if nxt else len(body)
        sections[key] = body[heading.end() : end].strip()
    for key in ("categories", "technologies"):
        if not isinstance(meta[key], list):
            raise StoryFileError(f"{name}: {key} must be a list")
    if meta.get("date") is not None and not isinstance(meta["date"], dt.date):
        raise StoryFileError(f"{name}: date must be YYYY-MM-DD")
    return StoryFile(meta=meta, sections=sections)


def story_file_to_text(story_file: StoryFile) -> str:
    meta = {k: story_file.meta[k] for k in META_ORDER if story_file.meta.get(k) is not None}
    for key in ("categories", "technologies"):
        meta[key] = sorted(meta.get(key) or [])
    front = yaml.dump(
        meta, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=4096
    )
    parts = [f"---\n{front}---\n"]
    for key, title in SECTIONS:
        parts.append(f"\n## {title}\n\n{story_file.sections.get(key, '').strip()}\n")
    for key, title in OPTIONAL_SECTIONS:
        text = (story_file.sections.get(key) or "").strip()
        if text:
            parts.append(f"\n## {title}\n\n{text}\n")
    return "".join(parts)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def story_to_file(story: Any) -> StoryFile:
    """Build the file form of a Story instance (categories/technologies sorted by slug)."""
    meta: dict[str, Any] = {
        "slug": story.slug,
        "title": story.title,
        "organisation": story.organisation,
        "source_url": story.source_url,
        "source_kind": story.source_kind,
        "year": story.year,
        "date": story.date,
        "platform": story.platform,
        "provenance": story.provenance,
        "status": story.status,
        "categories": sorted(c.slug for c in story.categories.all()),
        "technologies": sorted(t.slug for t in story.technologies.all()),
    }
    keys = [key for key, _ in (*SECTIONS, *OPTIONAL_SECTIONS)]
    return StoryFile(meta=meta, sections={key: getattr(story, key) for key in keys})


def read_story_dir(directory: Path) -> tuple[list[tuple[Path, StoryFile]], list[str]]:
    """Read every `*.md` file; return the parsed ones and the problems, never stopping early."""
    files: list[tuple[Path, StoryFile]] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.md")):
        try:
            story_file = parse_story_text(path.read_text(encoding="utf-8"), name=path.name)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: cannot read: {exc}")
            continue
        except StoryFileError as exc:
            problems.append(str(exc))
            continue
        if story_file.slug != path.stem:
            problems.append(f"{path.name}: slug {story_file.slug!r} differs from the file name")
            continue
        files.append((path, story_file))
    return files, problems
