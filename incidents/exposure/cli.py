"""`kbcheck --cluster-snapshot DIR`: the exposure report from the command line.

Like the rest of kbcheck it needs no Django and no database: the stories (titles, links, which
are published) come from the story files shipped in the package.

Exit codes: 0 no story could happen on this cluster, 1 at least one could (exposed),
2 the snapshot could not be read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from incidents.exposure.formats import FORMATS

SUFFIXES = (".json", ".yaml", ".yml")


class SnapshotUsageError(Exception):
    """A command-line mistake (missing directory, unsupported format)."""


def read_snapshot_files(path: str) -> list[tuple[str, bytes]]:
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.iterdir() if p.suffix in SUFFIXES and p.is_file())
        if not files:
            raise SnapshotUsageError(f"{path}: no {', '.join(SUFFIXES)} files")
    elif root.is_file():
        files = [root]
    else:
        raise SnapshotUsageError(f"{path}: no such file or directory")
    out = []
    for file in files:
        try:
            out.append((file.name, file.read_bytes()))
        except OSError as exc:
            raise SnapshotUsageError(f"{file}: {exc.strerror or exc}") from None
    return out


def published_slugs(directory: Path) -> list[str]:
    from incidents.rules.stories import read_front_matter

    slugs = []
    for path in sorted(directory.glob("*.md")):
        meta = read_front_matter(path)
        if meta and meta.get("status") == "published" and meta.get("slug") == path.stem:
            slugs.append(path.stem)
    return slugs


def run_cluster_snapshot(
    options: Mapping[str, Any], *, site_url: str, write: Callable[[str], Any]
) -> int:
    from incidents.exposure.assess import EXPOSED, assess
    from incidents.exposure.formats import render
    from incidents.exposure.snapshot import load_snapshot
    from incidents.rules.stories import STORIES_DIR, StoryFiles

    fmt = options.get("format") or "text"
    if fmt not in FORMATS:
        raise SnapshotUsageError(f"--cluster-snapshot prints {', '.join(FORMATS)}, not {fmt}")
    snapshot = load_snapshot(read_snapshot_files(options["cluster_snapshot"]))
    stories = StoryFiles(site_url)
    params = options.get("params") or {}
    report = assess(snapshot, story_slugs=published_slugs(STORIES_DIR), params=params)
    write(render(report, fmt, story_resolver=stories, rule_url=stories.rule_url))
    if not snapshot.objects and snapshot.server_version is None:
        return 2
    return 1 if report.count(EXPOSED) else 0
