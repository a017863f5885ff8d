"""Microsoft Teams outgoing webhooks: `Authorization: HMAC <base64>`, Adaptive Card replies.

Teams signs the raw body with HMAC-SHA256 keyed by the base64-decoded security token it shows
when the outgoing webhook is created (TEAMS_HMAC_SECRET). Outgoing-webhook replies are visible
to the channel; there is no ephemeral mode.
"""

from __future__ import annotations

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


def parse(request: HttpRequest) -> str | None:
    """The words after the bot's @mention, or None when the body is not a message activity."""
    try:
        activity = json.loads(request.body)
        text = activity.get("text") or ""
    except (ValueError, AttributeError):
        return None
    if not isinstance(text, str):
        return None
    text = re.sub(r"<at>.*?</at>", " ", text, flags=re.DOTALL)
    return " ".join(strip_tags(text).replace("&nbsp;", " ").split())


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def escape(text: str) -> str:
    for char in "\\*_[]`":
        text = text.replace(char, "\\" + char)
    return text


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
    fallback = "\n".join([reply.heading, *(f"{i.title}: {i.url}" for i in reply.items)])
    return {
        "type": "message",
        "text": fallback,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
