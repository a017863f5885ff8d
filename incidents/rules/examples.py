"""Example manifests for a rule, read from its test fixtures (the rule pages show them).

Fixtures live in `tests/rules/fixtures/<RULE_ID>/` and their names say the expected outcome:
`<name>-FAILS.yaml` must produce a finding of that rule, `<name>-PASSES.yaml` must not. The
meta-tests keep them true, so the pages show examples that are known to behave as labelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "tests" / "rules" / "fixtures"
MAX_EXAMPLE_BYTES = 20_000  # a page shows examples, not a whole chart


@dataclass(frozen=True, slots=True)
class Example:
    name: str  # the fixture name without the outcome suffix, dashes as spaces
    fails: bool
    text: str


@lru_cache(maxsize=256)
def examples_for(rule_id: str, fixtures_dir: Path = FIXTURES_DIR) -> tuple[Example, ...]:
    """Failing examples first, then passing ones, each group sorted by file name."""
    folder = fixtures_dir / rule_id
    if not rule_id.isalnum() or not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.y*ml")):
        stem = path.stem
        if stem.endswith("-FAILS"):
            fails = True
        elif stem.endswith("-PASSES"):
            fails = False
        else:
            continue
        if path.stat().st_size > MAX_EXAMPLE_BYTES:
            continue
        name = stem.rsplit("-", 1)[0].replace("-", " ").replace("_", " ")
        found.append(Example(name=name, fails=fails, text=path.read_text(encoding="utf-8")))
    return tuple(sorted(found, key=lambda e: (not e.fails, e.name)))
