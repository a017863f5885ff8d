"""Mattermost: the slash command's token, Markdown replies (ephemeral unless `share`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from incidents.chat.replies import Reply
from incidents.chat.verify import matches_any


def verify(request: HttpRequest) -> bool:
    """The token Mattermost sends in the form (and as `Authorization: Token ...`)."""
    tokens = settings.MATTERMOST_TOKEN
    if not tokens:
        return False
    given = request.POST.get("token", "")
    auth = request.headers.get("Authorization", "")
    if not given and auth.lower().startswith("token "):
        given = auth[6:].strip()
    return bool(given) and matches_any(given, tokens)


def escape(text: str) -> str:
    """Keep story text from being read as Markdown structure."""
    for char in "\\`*_[]<>|#":
        text = text.replace(char, "\\" + char)
    return text


def link(url: str, label: str) -> str:
    return f"[{escape(label)}]({url.replace(')', '%29')})"


def render(reply: Reply) -> dict[str, Any]:
    lines = [f"#### {escape(reply.heading)}"]
    for i, item in enumerate(reply.items, 1):
        lines.append(f"{i}. **{link(item.url, item.title)}** ({escape(item.context)})")
        if item.summary_zh:
            lines.append(f"   **{_('Summary')}:** {escape(item.summary_zh)}")
        lines.append(f"   **{_('Symptom')}:** {escape(item.symptom)}")
        lines.append(f"   **{_('Fix')}:** {escape(item.fix)}")
        if item.rules:
            rules = ", ".join(link(r.url, r.label) for r in item.rules)
            lines.append(f"   **{_('Rules')}:** {rules}")
    lines += [f"- **{escape(label)}** {escape(value)}" for label, value in reply.lines]
    lines += [f"- {link(lnk.url, lnk.label)}" for lnk in reply.links]
    if reply.more:
        lines.append(link(reply.more.url, reply.more.label))
    if not reply.share and reply.kind in {"results", "rule"}:
        lines.append(
            "_" + _("Only you can see this. `/kb share …` posts it for the channel.") + "_"
        )
    return {
        "response_type": "in_channel" if reply.share else "ephemeral",
        "text": "\n".join(lines),
    }
