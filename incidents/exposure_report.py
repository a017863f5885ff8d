"""The Django side of the exposure report: snapshot files in, report and story facts out.

Shared by the API (`POST /api/v1/exposure/`) and the web page (`/exposure/`); the matching
itself is plain Python in `incidents.exposure`. Nothing of the snapshot is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from incidents import selectors
from incidents.exposure.assess import ExposureReport, assess
from incidents.exposure.snapshot import load_snapshot


def exposure_report(
    files: Iterable[tuple[str, str | bytes]], *, absolute: Callable[[str], str]
) -> tuple[ExposureReport, Callable[[str], dict[str, Any] | None]]:
    """Assess the snapshot against the published stories; `absolute` turns a path into a URL."""
    facts = selectors.published_story_facts()
    report = assess(load_snapshot(files), story_slugs=sorted(facts))

    def resolve(slug: str) -> dict[str, Any] | None:
        story = facts.get(slug)
        if story is None:
            return None
        return {**story, "url": absolute(story["path"])}

    return report, resolve
