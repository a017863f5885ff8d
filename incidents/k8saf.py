"""Parse the k8s.af README list format.

    * [TITLE - ORGANISATION - MEDIUM YEAR](URL)
        * involved: COMPONENT, COMPONENT, ...
        * impact: WHAT USERS SAW

Titles may themselves contain " - ", so the label is split from the right: the last part is
"MEDIUM YEAR" (or "ORGANISATION YEAR" when the medium is missing), the one before it the
organisation, and everything left of that the title. Malformed entries are reported with their
line number; parsing goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ENTRY_RE = re.compile(
    r"^\*\s+\[(?P<label>.+)\]\((?P<url>https?://[^\s)]+(?:\([^\s)]*\))?[^\s)]*)\)\s*$"
)
SUB_RE = re.compile(r"^\s+[*-]\s+(?P<key>involved|impact):\s*(?P<value>.*?)\s*$", re.I)
YEAR_RE = re.compile(r"(?P<year>(?:19|20)\d{2})(?:-(?P<month>\d{2}))?\s*$")
MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")

KIND_HINTS = [
    ("slides", "slides"),
    ("postmortem", "postmortem"),
    ("post-mortem", "postmortem"),
    ("incident report", "incident-report"),
    ("community post", "forum-post"),
    ("blog post", "blog-post"),
    ("medium post", "blog-post"),
    ("kubecon", "talk"),
    ("containerdays", "talk"),
    ("devopscon", "talk"),
    ("devopsstage", "talk"),
    ("meetup", "talk"),
    ("user group", "talk"),
    ("search party", "talk"),
    ("conference", "talk"),
]
PLATFORM_HINTS = [
    ("gke", "gke"), ("google kubernetes engine", "gke"), ("eks", "eks"), ("aks", "aks"),
    ("azure", "azure"), ("on-premise", "on-premise"), ("gcp", "gcp"), ("aws", "aws"),
]  # fmt: skip


@dataclass
class Entry:
    line: int
    title: str
    organisation: str
    medium: str
    year: int
    url: str
    involved: list[str] = field(default_factory=list)
    impact: str = ""

    @property
    def source_kind(self) -> str:
        medium = self.medium.lower()
        if "slideshare.net" in self.url:
            return "slides"
        for hint, kind in KIND_HINTS:
            if hint in medium:
                return kind
        if "youtube.com" in self.url or "youtu.be" in self.url:
            return "talk"
        return "blog-post"

    @property
    def platform(self) -> str:
        items = [i.lower() for i in self.involved]
        for hint, platform in PLATFORM_HINTS:
            if any(hint == i or i.startswith(hint + " ") or f" {hint}" in f" {i}" for i in items):
                return platform
        return "unknown"


@dataclass
class ParseProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _unescape(text: str) -> str:
    return MD_ESCAPE_RE.sub(r"\1", text).strip()


def _split_label(label: str) -> tuple[str, str, str, int] | str:
    parts = [p.strip() for p in re.split(r"\s+-\s+", _unescape(label))]
    if len(parts) < 2:
        return "expected 'TITLE - ORGANISATION - MEDIUM YEAR'"
    tail = parts[-1]
    match = YEAR_RE.search(tail)
    if not match:
        return f"no year at the end of {tail!r}"
    year = int(match.group("year"))
    before_year = tail[: match.start()].strip()
    if len(parts) == 2:
        # "TITLE - ORGANISATION YEAR": no medium given.
        title, organisation, medium = parts[0], before_year, ""
    else:
        title, organisation, medium = " - ".join(parts[:-2]), parts[-2], before_year
    if not title or not organisation:
        return "empty title or organisation"
    return title, organisation, medium, year


def parse(text: str) -> tuple[list[Entry], list[ParseProblem]]:
    """Return the entries found and the problems met, in file order."""
    entries: list[Entry] = []
    problems: list[ParseProblem] = []
    current: Entry | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.startswith("* [") or line.startswith("- ["):
            current = None
            match = ENTRY_RE.match("* " + line[2:])
            if not match:
                problems.append(ParseProblem(number, "malformed entry: expected '* [LABEL](URL)'"))
                continue
            split = _split_label(match.group("label"))
            if isinstance(split, str):
                problems.append(ParseProblem(number, split))
                continue
            title, organisation, medium, year = split
            current = Entry(number, title, organisation, medium, year, match.group("url"))
            entries.append(current)
            continue
        sub = SUB_RE.match(line)
        if sub:
            if current is None:
                problems.append(ParseProblem(number, f"'{sub.group('key')}:' outside an entry"))
                continue
            value = _unescape(sub.group("value"))
            if sub.group("key").lower() == "involved":
                current.involved = [
                    item.strip().strip("`").strip() for item in value.split(",") if item.strip()
                ]
            else:
                current.impact = value
            continue
        if line.startswith("#"):
            current = None
        elif line.startswith((" ", "\t")) and current is not None and line.strip()[:1] in "*-":
            problems.append(ParseProblem(number, "unknown sub-bullet (expected involved/impact)"))
    return entries, problems
