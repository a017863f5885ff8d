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
    "slug", "title", "organisation", "source_url", "source_kind", "year", "listing_year",
    "published_date", "incident_date", "platform", "provenance", "read_parts", "read_from",
    "read_on", "status", "categories", "technologies", "facts",
]  # fmt: skip
OPTIONAL = {
    "listing_year", "published_date", "incident_date", "read_parts", "read_from", "read_on",
    "facts",
}  # fmt: skip
DATE_FIELDS = ("published_date", "incident_date", "read_on")
PROVENANCE_LEVELS = ("full", "partial", "listing")
FACT_KEYS = ("claim", "quote", "where")
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
    missing = [k for k in META_ORDER if k not in meta and k not in OPTIONAL]
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
    problems = validate_meta(meta)
    if problems:
        raise StoryFileError(f"{name}: {'; '.join(problems)}")
    return StoryFile(meta=meta, sections=sections)


def validate_meta(meta: dict[str, Any]) -> list[str]:
    """What is wrong with the provenance, date and facts fields (empty when nothing is)."""
    problems: list[str] = []
    for key in DATE_FIELDS:
        if meta.get(key) is not None and not isinstance(meta[key], dt.date):
            problems.append(f"{key} must be a date, YYYY-MM-DD")
    for key in ("year", "listing_year"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"{key} must be a year, e.g. 2019")
    if meta.get("listing_year") is not None and meta.get("listing_year") == meta.get("year"):
        problems.append("listing_year is only for a listing year that differs from year")
    provenance = meta.get("provenance")
    if provenance not in PROVENANCE_LEVELS:
        problems.append(f"provenance must be one of {', '.join(PROVENANCE_LEVELS)}")
    parts = meta.get("read_parts")
    if parts is not None and (not isinstance(parts, str) or not parts.strip()):
        problems.append("read_parts must be a non-empty text")
    if provenance == "partial" and not parts:
        problems.append("a partial record must say what was read in read_parts")
    if provenance in ("full", "partial") and meta.get("read_on") is None:
        problems.append("read_on (the date the source was read) is required when it was read")
    if provenance != "partial" and parts:
        problems.append("read_parts is only for a partial record")
    read_from = meta.get("read_from")
    if read_from is not None and not re.match(r"https?://\S+\Z", str(read_from)):
        problems.append("read_from must be an http(s) URL")
    if read_from is not None and str(read_from) == str(meta.get("source_url")):
        problems.append("read_from is only for a copy other than source_url")
    if provenance == "listing" and (read_from or meta.get("facts")):
        problems.append("a listing record has no read_from or facts: the source was not read")
    facts = meta.get("facts")
    if facts is not None:
        if not isinstance(facts, list):
            problems.append("facts must be a list")
        else:
            for i, fact in enumerate(facts, 1):
                problems.extend(f"facts entry {i}: {p}" for p in fact_problems(fact))
    return problems


def fact_problems(fact: Any) -> list[str]:
    if not isinstance(fact, dict):
        return ["must be a mapping with claim and quote or where"]
    problems = []
    unknown = sorted(set(fact) - set(FACT_KEYS))
    if unknown:
        problems.append(f"unknown keys {', '.join(map(str, unknown))}")
    for key in FACT_KEYS:
        if key in fact and (not isinstance(fact[key], str) or not fact[key].strip()):
            problems.append(f"{key} must be a non-empty text")
    if "claim" not in fact:
        problems.append("claim is missing")
    if "quote" not in fact and "where" not in fact:
        problems.append("needs a quote or a where (a locator in the source)")
    return problems


def story_file_to_text(story_file: StoryFile) -> str:
    meta = {k: story_file.meta[k] for k in META_ORDER if story_file.meta.get(k) not in (None, "")}
    if not meta.get("facts"):
        meta.pop("facts", None)
    else:
        meta["facts"] = [{k: fact[k] for k in FACT_KEYS if fact.get(k)} for fact in meta["facts"]]
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
        "listing_year": story.listing_year,
        "published_date": story.published_date,
        "incident_date": story.incident_date,
        "platform": story.platform,
        "provenance": story.provenance,
        "read_parts": story.read_parts,
        "read_from": story.read_from,
        "read_on": story.read_on,
        "status": story.status,
        "categories": sorted(c.slug for c in story.categories.all()),
        "technologies": sorted(t.slug for t in story.technologies.all()),
        "facts": list(story.facts or []),
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
