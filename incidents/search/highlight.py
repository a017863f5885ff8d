"""Highlighted fragments as safe HTML: the text is escaped, and <mark> is the only markup added.

Backend-neutral: the backend passes a function that yields (normalised term, start, end) for a
text, so matching uses exactly the analysis the index used (stemming, case folding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape

Analyse = Callable[[str], Iterable[tuple[str, int, int]]]

FRAGMENT_CHARS = 220
MAX_TEXT_CHARS = 6000


def fragment(text: str, wanted: set[str], analyse: Analyse, *, size: int = FRAGMENT_CHARS) -> str:
    """The window of about `size` characters with the most matches, matches wrapped in <mark>.

    Returns "" when nothing matches.
    """
    text = text[:MAX_TEXT_CHARS]
    spans = [(s, e) for term, s, e in analyse(text) if term in wanted]
    if not spans:
        return ""
    # Best window: the start span from which the most spans fit within `size` characters.
    best_i, best_n, j = 0, 0, 0
    for i, (start, _) in enumerate(spans):
        while j < len(spans) and spans[j][1] - start <= size:
            j += 1
        if j - i > best_n:
            best_i, best_n = i, j - i
    first = spans[best_i][0]
    last = spans[best_i + best_n - 1][1]
    slack = max(0, size - (last - first))
    lo = max(0, first - slack // 3)
    hi = min(len(text), max(last, lo + size))
    # Snap to word boundaries.
    if lo > 0:
        space = text.find(" ", lo, first)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", last, hi)
        hi = space if space != -1 else hi
    out = ["…" if lo > 0 else ""]
    pos = lo
    for s, e in spans[best_i : best_i + best_n]:
        if s < pos or e > hi:
            continue
        out.append(escape(text[pos:s]))
        out.append("<mark>" + escape(text[s:e]) + "</mark>")
        pos = e
    out.append(escape(text[pos:hi]))
    if hi < len(text):
        out.append("…")
    return "".join(out)
