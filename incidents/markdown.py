"""The one way Markdown becomes HTML: python-markdown, then nh3 with an allow-list.

Every rendered field (story sections, rule docs, admin preview) goes through `render_markdown`,
so there is one place to reason about what HTML can reach a page.
"""

from __future__ import annotations

from functools import lru_cache

import markdown as md
import nh3
from django.utils.html import escape
from django.utils.translation import get_language, gettext

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class"},
    "th": {"align"},
    "td": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["fenced_code", "tables", "sane_lists", "smarty"]


def sanitize_html(html: str) -> str:
    """Strip everything but the allow-listed tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Render curated Markdown to safe HTML. Cached: the same text always renders the same."""
    if not text:
        return ""
    return _render(text, get_language() or "")


@lru_cache(maxsize=2048)
def _render(text: str, language: str) -> str:
    html = sanitize_html(md.markdown(text, extensions=EXTENSIONS, output_format="html"))
    # A code block wider than the column scrolls sideways: keyboard users reach it with Tab
    # (a focusable, named region), as axe's scrollable-region-focusable asks. Added after
    # sanitising, to the bare <pre> tags nh3 leaves (it keeps no attribute on them).
    label = escape(gettext("Code block"))
    return html.replace("<pre>", f'<pre tabindex="0" role="region" aria-label="{label}">')
