"""Slack: signed requests (`v0` HMAC-SHA256), Block Kit replies with a plain-text fallback.

Replies are ephemeral (only the caller sees them) with a "Share in channel" button. The button
comes back to the same URL as an interaction payload; the shared copy is posted to the
interaction's `response_url` (only ever a hooks.slack.com URL).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from incidents.chat.replies import Reply, StoryItem
from incidents.chat.verify import hmac_sha256_hex, matches_any

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 5 * 60
SHARE_ACTION = "kb_share"
RESPONSE_URL_PREFIX = "https://hooks.slack.com/"


def verify(request: HttpRequest, *, now: float | None = None) -> bool:
    """X-Slack-Signature = v0=HMAC-SHA256(secret, "v0:{timestamp}:{raw body}"), any secret."""
    secrets = settings.SLACK_SIGNING_SECRET
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    # isascii(): str.isdigit() also accepts "²" or "١٢٣" (a header's non-ASCII bytes arrive as
    # Latin-1 text), which int() or the ASCII encoding below then refuse with an exception.
    if not secrets or not signature.startswith("v0="):
        return False
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode("ascii") + b":" + request.body
    return matches_any(signature, ["v0=" + hmac_sha256_hex(secret, base) for secret in secrets])


def escape(text: str) -> str:
    """Slack mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    return f"<{url}|{escape(label).replace('|', '¦')}>"


def _story_block(item: StoryItem) -> dict[str, Any]:
    lines = [
        f"*{link(item.url, item.title)}*  ({escape(item.context)})",
        *([f"*{_('Summary')}:* {escape(item.summary_zh)}"] if item.summary_zh else []),
        f"*{_('Symptom')}:* {escape(item.symptom)}",
        f"*{_('Fix')}:* {escape(item.fix)}",
    ]
    if item.rules:
        lines.append(f"*{_('Rules')}:* " + ", ".join(link(r.url, r.label) for r in item.rules))
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}


def fallback_text(reply: Reply) -> str:
    """Plain text for notifications and clients that cannot show blocks."""
    parts = [escape(reply.heading)]
    for i, item in enumerate(reply.items, 1):
        rules = f" {_('Rules')}: {', '.join(r.label for r in item.rules)}." if item.rules else ""
        parts.append(
            f"{i}. {escape(item.title)} ({escape(item.context)}) {item.url} "
            f"{_('Fix')}: {escape(item.fix)}{escape(rules)}"
        )
    parts += [f"{escape(label)}: {escape(text)}" for label, text in reply.lines]
    parts += [f"{escape(lnk.label)}: {lnk.url}" for lnk in reply.links]
    if reply.more:
        parts.append(f"{escape(reply.more.label)}: {reply.more.url}")
    return "\n".join(parts)


def render(reply: Reply, *, shared_by: str | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(reply.heading)}*"}}
    ]
    blocks += [_story_block(item) for item in reply.items]
    if reply.lines:
        text = "\n".join(f"*{escape(label)}*  {escape(value)}" for label, value in reply.lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if reply.links:
        text = "\n".join(f"• {link(lnk.url, lnk.label)}" for lnk in reply.links)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    context = [link(reply.more.url, reply.more.label)] if reply.more else []
    if shared_by:
        context.append(_("shared by %(user)s") % {"user": f"<@{escape(shared_by)}>"})
    if context:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
        )
    shared = reply.share or shared_by is not None
    if not shared and reply.kind in {"results", "rule"}:
        command = reply.query if reply.kind == "results" else f"rule {reply.query}"
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": SHARE_ACTION,
                        "text": {"type": "plain_text", "text": _("Share in channel")},
                        "value": command[:1900],
                    }
                ],
            }
        )
    return {
        "response_type": "in_channel" if shared else "ephemeral",
        "text": fallback_text(reply)[:3000],
        "blocks": blocks,
    }


def parse_interaction(request: HttpRequest) -> tuple[str, str, str] | None:
    """(command text, response_url, user id) of a "Share in channel" click, else None."""
    try:
        payload = json.loads(request.POST.get("payload", ""))
        action = payload["actions"][0]
        if action.get("action_id") != SHARE_ACTION:
            return None
        url = str(payload["response_url"])
        user = str(payload.get("user", {}).get("id", ""))
        value = str(action.get("value", ""))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return None
    if not url.startswith(RESPONSE_URL_PREFIX):
        return None
    return value, url, user


def post_to_response_url(url: str, message: dict[str, Any]) -> None:
    """Post a message to a Slack response_url (a hooks.slack.com URL, checked by the caller)."""
    body = json.dumps({**message, "delete_original": True}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            response.read(1024)
    except OSError:
        log.warning("posting the shared reply to Slack failed", exc_info=True)
