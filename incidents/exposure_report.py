"""The Django side of the exposure report: snapshot files in, report and story facts out.

Shared by the API (`POST /api/v1/exposure/`) and the web page (`/exposure/`); the matching
itself is plain Python in `incidents.exposure`. Nothing of the snapshot is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from incidents import selectors
from incidents.exposure.assess import ExposureReport, assess
from incidents.exposure.snapshot import load_snapshot


def exposure_report(
    files: Iterable[tuple[str, str | bytes]], *, absolute: Callable[[str], str]
) -> tuple[ExposureReport, selectors.StoryLookup]:
    """Assess the snapshot against the published stories; `absolute` turns a path into a URL."""
    resolve = selectors.story_resolver(absolute=absolute)
    return assess(load_snapshot(files), story_slugs=sorted(resolve.facts)), resolve
