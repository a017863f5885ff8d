"""/chat/teams/: HMAC in the Authorization header; Adaptive Card replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from tests.chat.conftest import TEAMS_KEY


def post(client, text: str, *, key: bytes = TEAMS_KEY, body: bytes | None = None):
    if body is None:
        body = json.dumps({"type": "message", "text": f"<at>KB</at> {text}"}).encode()
    signature = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    return client.post(
        "/chat/teams/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"HMAC {signature}",
    )


def test_it_answers_with_an_adaptive_card(client, stories):
    response = post(client, "coredns memory")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "message"
    card = body["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    text = json.dumps(card["content"])
    assert "[CoreDNS ran out of memory](https://kb.example/stories/dns-outage/)" in text
    assert "**Fix:** Raised the limit and added an autoscaler." in text
    assert "[KB033](https://kb.example/rules/KB033/)" in text


def test_a_bad_signature_is_401(client, stories):
    assert post(client, "coredns", key=b"another key").status_code == 401
    response = client.post("/chat/teams/", data=b"{}", content_type="application/json")
    assert response.status_code == 401


def test_a_signed_non_message_body_is_a_400(client, stories):
    assert post(client, "", body=b"not json").status_code == 400


def test_help_and_rule(client, stories):
    assert "/kb rule" in json.dumps(post(client, "help").json())
    assert "KB033" in json.dumps(post(client, "rule KB033").json())
