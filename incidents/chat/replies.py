"""What `/kb ...` answers, before any platform formatting.

/kb <words>          the top 3 stories: linked title, one line of symptom, one of fix, rules
/kb share <words>    the same, posted for the whole channel
/kb rule <id|slug>   one rule: what it checks, how to fix, the stories behind it
/kb help, /kb        usage

A query containing Chinese characters (CJK ideographs) is answered in Simplified Chinese: the
reply's own words come from the zh_Hans catalogue, and a story with a Chinese summary shows it.
Story titles and the other record fields exist only in English and stay so.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from incidents import search, selectors
from incidents.markdown import render_markdown
from incidents.models import Story

TOP = 3
MAX_QUERY = 300
LINE_CHARS = 180
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HELP_WORDS = {"", "help", "-h", "--help", "?", "帮助", "？"}


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class StoryItem:
    title: str
    url: str
    context: str  # "Zalando, 2019"
    symptom: str
    fix: str
    rules: list[Link] = field(default_factory=list)
    summary_zh: str = ""  # the first sentence of the Chinese summary, in Chinese replies only


@dataclass(frozen=True)
class Reply:
    """kind: results | no_results | rule | unknown_rule | help."""

    kind: str
    query: str = ""
    heading: str = ""
    items: list[StoryItem] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (label, plain text)
    links: list[Link] = field(default_factory=list)
    more: Link | None = None
    share: bool = False  # post for the channel instead of only the caller
    language: str = "en-gb"  # the formatters render their own labels in it


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def one_line(markdown: str, limit: int = LINE_CHARS) -> str:
    """The first sentence of a Markdown field as plain text, at most `limit` characters."""
    text = html.unescape(strip_tags(render_markdown(markdown or "")))
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"(.+?(?:[.!?](?=\s|$)|[。！？]))", text)
    if match and len(match.group(1)) >= 20:
        text = match.group(1)
    if len(text) > limit:
        cut = text[: limit - 1]
        text = (cut if CJK.search(cut[-1:]) else cut.rsplit(" ", 1)[0]) + "…"
    return text or "—"


def query_language(text: str) -> str:
    """The language to answer in: Simplified Chinese when the query has Chinese characters."""
    return "zh-hans" if CJK.search(text) else "en-gb"


def _story_item(story: Story) -> StoryItem:
    chinese = translation.get_language() == "zh-hans" and bool(story.summary_zh)
    return StoryItem(
        title=story.title,
        url=absolute(story.get_absolute_url()),
        context=f"{story.organisation}, {story.year}",
        symptom=one_line(story.symptom or story.summary),
        fix=one_line(story.fix),
        rules=[
            Link(link.rule.rule_id, absolute(reverse("incidents:rule", args=[link.rule.rule_id])))
            for link in selectors.rules_for_story(story)
        ],
        summary_zh=one_line(story.summary_zh) if chinese else "",
    )


def help_reply(note: str = "") -> Reply:
    return Reply(
        kind="help",
        heading=note or _("Kubernetes Failure KB: find public failure stories like yours."),
        lines=[
            (
                _("/kb <words>"),
                _("the 3 stories that best match, e.g. /kb coredns timeouts ndots"),
            ),
            (_("/kb share <words>"), _("the same, posted for the whole channel")),
            (
                _("/kb rule <ID>"),
                _("a manifest rule and the stories behind it, e.g. /kb rule KB001"),
            ),
            ("/kb help", _("this message")),
        ],
        more=Link(_("Browse all stories"), absolute(reverse("incidents:story_list"))),
    )


def story_reply(query: str, *, share: bool = False) -> Reply:
    results = search.search(query, filters={}, page=1, per_page=TOP, highlight=False)
    stories = [hit.story for hit in results.hits][:TOP]
    selectors.prefetch_rule_links(stories)
    more = Link(
        _("All %(total)s results") % {"total": results.total}
        if results.total
        else _("Search the KB"),
        absolute(reverse("incidents:search")) + "?" + urlencode({"q": query}),
    )
    if results.corrected and stories:
        return Reply(
            kind="results",
            query=results.suggestion or query,
            heading=(
                f"Showing results for “{results.suggestion}” (nothing matched “{query}”; "
                f"search instead for it on the site)"
            ),
            items=[_story_item(story) for story in stories],
            more=Link(
                f"All {results.total} results",
                absolute(reverse("incidents:search")) + "?" + urlencode({"q": query}),
            ),
            links=[
                Link(
                    f"Search instead for “{query}”",
                    absolute(reverse("incidents:search"))
                    + "?"
                    + urlencode({"q": query, "exact": "1"}),
                )
            ],
            share=share,
        )
    if not stories:
        hint = (
            " " + _("Did you mean “%(suggestion)s”?") % {"suggestion": results.suggestion}
            if results.suggestion
            else ""
        )
        return Reply(
            kind="no_results",
            query=query,
            heading=_("No stories match “%(query)s”.") % {"query": query} + hint,
            more=more,
            share=share,
        )
    return Reply(
        kind="results",
        query=query,
        heading=_("Known failure stories for “%(query)s”") % {"query": query},
        items=[_story_item(story) for story in stories],
        more=more,
        share=share,
    )


def rule_reply(key: str, *, share: bool = False) -> Reply:
    rule = selectors.rule_lookup(key[:60])
    if rule is None:
        return Reply(
            kind="unknown_rule",
            query=key,
            heading=_("There is no rule “%(key)s”.") % {"key": key[:60]},
        )
    linked = selectors.stories_for_rule(rule.id)
    return Reply(
        kind="rule",
        query=key,
        heading=f"{rule.id} {rule.title} ({rule.severity.label})",
        lines=[(_("Checks"), one_line(rule.checks, 300)), (_("Fix"), one_line(rule.fix, 300))],
        links=[Link(item.story.title, absolute(item.story.get_absolute_url())) for item in linked],
        more=Link(_("Rule page"), absolute(reverse("incidents:rule", args=[rule.id]))),
        share=share,
    )


def answer(text: str) -> Reply:
    """The reply to `/kb <text>`, in the language of the query (see query_language)."""
    text = " ".join(text.replace("\x00", " ").split())[:MAX_QUERY]
    language = query_language(text)
    with translation.override(language):
        return replace(_answer(text), language=language)


def _answer(text: str) -> Reply:
    command, _sep, rest = text.partition(" ")
    command = command.lower()
    share = command == "share"
    if share:
        command, _sep, rest = rest.partition(" ")
        command = command.lower()
        text = " ".join([command, rest]).strip()
    if command in HELP_WORDS:
        return help_reply()
    if command == "rule":
        if not rest.strip():
            return help_reply(_("Which rule? For example: /kb rule KB001"))
        return rule_reply(rest.strip(), share=share)
    return story_reply(text, share=share)
