"""Microsoft Teams outgoing webhooks: `Authorization: HMAC <base64>`, Adaptive Card replies.

Teams signs the raw body with HMAC-SHA256 keyed by the base64-decoded security token it shows
when the outgoing webhook is created (TEAMS_HMAC_SECRET). Outgoing-webhook replies are visible
to the channel; there is no ephemeral mode.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from incidents.chat.replies import Reply
from incidents.chat.verify import b64_key, hmac_sha256_b64, matches_any


def verify(request: HttpRequest) -> bool:
    key = b64_key(settings.TEAMS_HMAC_SECRET)
    auth = request.headers.get("Authorization", "")
    if key is None or not auth.startswith("HMAC "):
        return False
    return matches_any(auth[5:].strip(), [hmac_sha256_b64(key, request.body)])


MAX_TEXT_CHARS = 2000  # a question, not a document: the rest is dropped before tag stripping
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse(request: HttpRequest) -> str | None:
    """The words after the bot's @mention, or None when the body is not a message activity.

    Signed bodies are still hostile input: JSON nested deeper than the recursion limit, lone
    surrogate escapes (a str that cannot be encoded back) and tens of KB of `<at>` tags."""
    try:
        activity = json.loads(request.body)
        text = activity.get("text") or ""
    except (ValueError, AttributeError, RecursionError):
        return None
    if not isinstance(text, str):
        return None
    text = _LONE_SURROGATE.sub("\ufffd", drop_mentions(text))[:MAX_TEXT_CHARS]
    return " ".join(strip_tags(text).replace("&nbsp;", " ").split())


def drop_mentions(text: str) -> str:
    """Each `<at>...</at>` (shortest match) replaced by a space, in one pass.

    The regular expression `<at>.*?</at>` does the same but rescans the rest of the text from
    every `<at>` that has no closing tag: 60 KB of them took 3.3 s."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<at>", pos)
        if start < 0:
            break
        end = text.find("</at>", start + 4)
        if end < 0:  # no closing tag after this one, so none after any later one either
            break
        out += [text[pos:start], " "]
        pos = end + 5
    out.append(text[pos:])
    return "".join(out)


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def escape(text: str) -> str:
    for char in "\\*_[]`":
        text = text.replace(char, "\\" + char)
    return text


def plain(text: str) -> str:
    """Text for the plain-text fallback: HTML special characters and Markdown escaped."""
    return escape(html.escape(text, quote=False))


def render(reply: Reply) -> dict[str, Any]:
    body: list[dict[str, Any]] = [_text(escape(reply.heading), weight="Bolder", size="Medium")]
    for item in reply.items:
        rules = ", ".join(f"[{r.label}]({r.url})" for r in item.rules)
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    _text(f"**[{escape(item.title)}]({item.url})** ({escape(item.context)})"),
                    *(
                        [_text(f"**{_('Summary')}:** {escape(item.summary_zh)}", spacing="None")]
                        if item.summary_zh
                        else []
                    ),
                    _text(f"**{_('Symptom')}:** {escape(item.symptom)}", spacing="None"),
                    _text(f"**{_('Fix')}:** {escape(item.fix)}", spacing="None"),
                    *([_text(f"**{_('Rules')}:** {rules}", spacing="None")] if rules else []),
                ],
            }
        )
    if reply.lines:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": value} for label, value in reply.lines],
            }
        )
    body += [_text(f"[{escape(lnk.label)}]({lnk.url})") for lnk in reply.links]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if reply.more:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": reply.more.label, "url": reply.more.url}
        ]
    # Teams renders a message's text as Markdown and a subset of HTML: the fallback is escaped
    # like the card (titles are curator and reader input).
    fallback = "\n".join(
        [plain(reply.heading), *(f"{plain(i.title)}: {i.url}" for i in reply.items)]
    )
    return {
        "type": "message",
        "text": fallback,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
