"""Every specific in a record drawn from its source is anchored, and Symptom starts with what an
engineer sees (docs/story-format.md, "Anchoring facts" and "Symptom first").

A number is a digit run (with inner `.`, `,`, `:` or `/`, as in 1.7.8, 1,500, 10:30) that does
not continue a word (EC2, k8s and p95 are names, not numbers; v1.13 is a version and counts).
It is anchored when some `facts` entry (claim, quote or where) holds the same number. Blocks
marked as general guidance are exempt: a paragraph or list item starting with "General
guidance" or "First checks", and when such a paragraph ends with a colon, the block after it.
"""

from __future__ import annotations

import re

import pytest

from incidents.storyfiles import STORIES_DIR, parse_story_text

ANCHORED_SECTIONS = ("summary", "symptom", "contributing_factors", "fix", "impact")
GUIDANCE_RE = re.compile(r"^(?:[-*+]\s+|\d+\.\s+)?[*_]*(general guidance|first checks)", re.I)
NUMBER_RE = re.compile(r"(?:(?<![A-Za-z0-9_])|(?<=\bv))\d+(?:[.,:/]\d+)*")
LINK_TARGET_RE = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
LIST_ITEM_RE = re.compile(r"^(?:[-*+]|\d+\.)\s+")
MIN_SYMPTOM_FIRST = 50
FILES = sorted(STORIES_DIR.glob("*.md"))


def numbers(text: str) -> list[str]:
    return NUMBER_RE.findall(LINK_TARGET_RE.sub(" ", text))


def blocks(markdown: str) -> list[str]:
    """Paragraphs, fenced code blocks and top-level list items (with their nested lines)."""
    out: list[str] = []
    current: list[str] = []
    fence = False

    def flush() -> None:
        if current:
            out.append("\n".join(current))
            current.clear()

    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            if not fence:
                flush()
                fence = True
                current.append(line)
            else:
                current.append(line)
                fence = False
                flush()
            continue
        if fence:
            current.append(line)
        elif not line.strip():
            flush()
        elif LIST_ITEM_RE.match(line):
            flush()
            current.append(line)
        else:
            current.append(line)
    flush()
    return out


def unanchored_text(markdown: str) -> list[str]:
    """The blocks of a section that are not marked as general guidance."""
    kept: list[str] = []
    exempt_next = False
    for block in blocks(markdown):
        if exempt_next:
            exempt_next = False
            if block.startswith("```") or LIST_ITEM_RE.match(block):
                continue
        if GUIDANCE_RE.match(block):
            exempt_next = block.rstrip().endswith(":")
            continue
        kept.append(block)
    return kept


def fact_numbers(meta: dict) -> set[str]:
    found: set[str] = set()
    for fact in meta.get("facts") or []:
        for key in ("claim", "quote", "where"):
            found.update(numbers(str(fact.get(key, ""))))
    return found


def shows_an_observable(symptom: str) -> bool:
    """The Symptom's first block names something literal (in backticks) or is marked guidance."""
    first = next(iter(blocks(symptom)), "")
    return "`" in first or bool(GUIDANCE_RE.match(first))


def _load(path):
    return parse_story_text(path.read_text(encoding="utf-8"), name=path.name)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_number_drawn_from_the_source_is_anchored(path):
    story = _load(path)
    if story.meta["provenance"] == "listing":
        return
    anchored = fact_numbers(story.meta)
    missing = {
        key: sorted(set(numbers("\n".join(unanchored_text(story.sections[key])))) - anchored)
        for key in ANCHORED_SECTIONS
    }
    missing = {key: values for key, values in missing.items() if values}
    assert not missing, f"numbers with no facts entry (section: numbers): {missing}"


def test_most_records_start_the_symptom_with_what_an_engineer_sees():
    showing = [p.stem for p in FILES if shows_an_observable(_load(p).sections["symptom"])]
    assert len(showing) >= MIN_SYMPTOM_FIRST, f"{len(showing)} of {len(FILES)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_first_checks_are_two_to_four_commands(path):
    parts = blocks(_load(path).sections["symptom"])
    for i, block in enumerate(parts):
        if not re.match(r"^[*_]*first checks", block, re.I):
            continue
        commands = re.findall(r"`[^`\n]+`", block.split(":", 1)[-1])
        for body in parts[i + 1 :]:
            if body.startswith("```"):
                commands += [ln for ln in body.splitlines()[1:-1] if ln.strip()]
            elif LIST_ITEM_RE.match(body):
                commands += re.findall(r"`[^`\n]+`", body)
            else:
                break
        assert 2 <= len(commands) <= 4, f"First checks has {len(commands)} commands"


def test_the_number_rules_hold():
    assert numbers("EC2 k8s p95 took 86 ms, v1.13 and 1.7.8; 5xx; see [x](https://a/1)") == [
        "86",
        "1.13",
        "1.7.8",
        "5",
    ]
    section = "General guidance: watch this:\n\n- 42 things\n\nSaw 7 errors."
    assert numbers("\n".join(unanchored_text(section))) == ["7"]
