"""Server-side SVG charts: bar charts and the rules-by-stories coverage matrix.

Why SVG strings and not a charting library: the charts are simple, render in well under a
millisecond, need no JavaScript, and obey the Content-Security-Policy (no inline styles: every
colour comes from a CSS class in static/css/base.css, so light and dark mode both work).

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that states the numbers, so
a screen reader gets the data, not "image"; the pages also offer the same data as a table.
Every label goes through `escape`; the return value is a SafeString for templates.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_ids = itertools.count(1)
STORIES = ("story", "stories")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    url: str = ""


def _svg(width: float, height: float, title: str, desc: str, body: Iterable[str], cls: str):
    uid = next(_ids)
    parts = [
        f'<svg class="chart {cls}" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
        f'height="{height:g}" role="img" aria-labelledby="chart-{uid}-t chart-{uid}-d" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f'<title id="chart-{uid}-t">{escape(title)}</title>',
        f'<desc id="chart-{uid}-d">{escape(desc)}</desc>',
        *body,
        "</svg>",
    ]
    return mark_safe("".join(parts))


def _count(value: int, unit: tuple[str, str]) -> str:
    return f"{value} {unit[0] if value == 1 else unit[1]}"


def _describe(bars: Sequence[Bar], unit: tuple[str, str]) -> str:
    return "; ".join(f"{b.label}: {_count(b.value, unit)}" for b in bars) + "."


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def hbar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: tuple[str, str] = STORIES,
    variant: int = 1,
    label_width: int = 170,
    bar_width: int = 330,
    row: int = 26,
) -> SafeString:
    """Horizontal bars, one row per item, value written after each bar."""
    top = 6
    height = top * 2 + row * max(len(bars), 1)
    width = label_width + bar_width + 44
    peak = max((b.value for b in bars), default=0) or 1
    body = [
        f'<line class="axis" x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}"/>'
    ]
    for i, b in enumerate(bars):
        y = top + i * row
        length = max(b.value / peak * bar_width, 1 if b.value else 0)
        body.append(
            f"<g><title>{escape(b.label)}: {_count(b.value, unit)}</title>"
            f'<text x="{label_width - 8}" y="{y + row * 0.62:.1f}" text-anchor="end">'
            f"{escape(_clip(b.label, 26))}</text>"
            f'<rect class="bar bar--{variant}" x="{label_width + 1}" y="{y + 4}" '
            f'width="{length:.1f}" height="{row - 8}" rx="3"/>'
            f'<text class="value" x="{label_width + length + 6:.1f}" y="{y + row * 0.62:.1f}">'
            f"{b.value}</text></g>"
        )
    return _svg(width, height, title, _describe(bars, unit), body, "chart--hbar")


def column_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: tuple[str, str] = STORIES,
    variant: int = 1,
    height: int = 220,
    column: int = 44,
) -> SafeString:
    """Vertical columns (a time series such as stories per year), with light grid lines."""
    left, bottom, top = 30, 28, 14
    width = left + column * max(len(bars), 1) + 10
    plot = height - bottom - top
    peak = max((b.value for b in bars), default=0) or 1
    step = max(1, round(peak / 4))
    body = []
    for tick in range(0, peak + 1, step):
        y = top + plot - tick / peak * plot
        body.append(
            f'<line class="grid-line" x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for i, b in enumerate(bars):
        x = left + i * column + 6
        h = b.value / peak * plot
        y = top + plot - h
        body.append(
            f"<g><title>{escape(b.label)}: {_count(b.value, unit)}</title>"
            f'<rect class="bar bar--{variant}" x="{x}" y="{y:.1f}" width="{column - 12}" '
            f'height="{h:.1f}" rx="3"/>'
            f'<text class="value" x="{x + (column - 12) / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{b.value}</text>'
            f'<text x="{x + (column - 12) / 2:.1f}" y="{height - 10}" text-anchor="middle">'
            f"{escape(_clip(b.label, 6))}</text></g>"
        )
    body.append(
        f'<line class="axis" x1="{left}" y1="{top + plot}" x2="{width - 10}" y2="{top + plot}"/>'
    )
    return _svg(width, height, title, _describe(bars, unit), body, "chart--columns")


@dataclass(frozen=True)
class MatrixRow:
    key: str
    label: str


def coverage_matrix(
    stories: Sequence[MatrixRow],
    rules: Sequence[MatrixRow],
    links: set[tuple[str, str]],
    *,
    title: str,
    cell: int = 16,
    label_width: int = 290,
    header: int = 56,
) -> SafeString:
    """Stories (rows) against rules (columns); a filled cell means the rule catches the story.

    Rows of stories no rule catches are tinted, as are the headers of rules no story backs:
    those are the gaps the page is about. `links` holds (story key, rule key) pairs.
    """
    width = label_width + cell * max(len(rules), 1) + 8
    height = header + cell * max(len(stories), 1) + 4
    caught = {s for s, _ in links}
    backed = {r for _, r in links}
    body = []
    for j, rule in enumerate(rules):
        x = label_width + j * cell + cell / 2 + 4
        warn = " label--warn" if rule.key not in backed else ""
        body.append(
            f'<text class="label{warn}" transform="translate({x:.1f},{header - 6}) rotate(-60)">'
            f"<title>{escape(rule.label)}</title>{escape(rule.key)}</text>"
        )
    for i, story in enumerate(stories):
        y = header + i * cell
        if story.key not in caught:
            body.append(f'<rect class="row-gap" x="0" y="{y}" width="{width}" height="{cell}"/>')
        warn = " label--warn" if story.key not in caught else ""
        body.append(
            f'<text class="label{warn}" x="{label_width - 6}" y="{y + cell * 0.72:.1f}" '
            f'text-anchor="end"><title>{escape(story.label)}</title>'
            f"{escape(_clip(story.label, 42))}</text>"
        )
        for j, rule in enumerate(rules):
            x = label_width + j * cell
            hit = (story.key, rule.key) in links
            tip = f"<title>{escape(rule.key)} catches {escape(story.label)}</title>" if hit else ""
            body.append(
                f'<rect class="cell{" cell--hit" if hit else ""}" x="{x + 1}" y="{y + 1}" '
                f'width="{cell - 2}" height="{cell - 2}" rx="2">{tip}</rect>'
            )
    desc = (
        f"{len(caught & {s.key for s in stories})} of {len(stories)} stories are caught by at "
        f"least one of {len(rules)} rules; "
        f"{len([r for r in rules if r.key not in backed])} rules have no story behind them."
    )
    return _svg(width, height, title, desc, body, "matrix")
