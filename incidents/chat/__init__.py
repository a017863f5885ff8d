"""Slash commands for Slack, Mattermost and Microsoft Teams: `/kb <words>`.

Every platform folder-module has the same shape: `verify(request) -> bool` checks the platform's
signature or token, `parse(request) -> str` extracts the command text, `render(reply) -> dict`
formats a platform-neutral `replies.Reply`. `views.py` wires them together.
"""
