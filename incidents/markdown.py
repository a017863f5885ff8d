"""The one way Markdown becomes HTML: python-markdown, then nh3 with an allow-list.

Every rendered field (story sections, rule docs, admin preview) goes through `render_markdown`,
so there is one place to reason about what HTML can reach a page.
"""

from __future__ import annotations

from functools import lru_cache

import markdown as md
import nh3

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


@lru_cache(maxsize=2048)
def render_markdown(text: str) -> str:
    """Render curated Markdown to safe HTML. Cached: the same text always renders the same."""
    if not text:
        return ""
    html = md.markdown(text, extensions=EXTENSIONS, output_format="html")
    return sanitize_html(html)
