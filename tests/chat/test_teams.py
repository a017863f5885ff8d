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


def test_deeply_nested_json_is_a_400_not_a_500(client, stories):
    body = ('{"type": "message", "text": "x", "a": ' + "[" * 10_000 + "]" * 10_000 + "}").encode()
    assert post(client, "", body=body).status_code == 400


def test_a_lone_surrogate_in_the_text_is_answered(client, stories):
    body = b'{"type": "message", "text": "<at>KB</at> coredns \\ud800 memory"}'
    response = post(client, "", body=body)
    assert response.status_code == 200
    response.content.decode("utf-8")


def test_many_unclosed_at_tags_are_parsed_in_linear_time(client, stories):
    import time

    from incidents.chat import teams

    text = "<at>" * 15_000 + "coredns"
    started = time.process_time()
    assert teams.drop_mentions(text) == text
    assert teams.drop_mentions("<at>KB</at> a <at>x</at>b<at>") == "  a  b<at>"
    assert time.process_time() - started < 0.2
    body = json.dumps({"type": "message", "text": text}).encode()
    assert post(client, "", body=body).status_code == 200


def test_the_plain_text_fallback_escapes_titles(client, stories):
    from incidents.chat import teams
    from incidents.chat.replies import Reply, StoryItem

    item = StoryItem(
        title="<img src=x onerror=alert(1)> [click](javascript:alert(1))",
        url="https://kb.example/stories/x/",
        context="",
        symptom="",
        fix="",
        rules=[],
    )
    fallback = teams.render(Reply(kind="results", heading="<b>x</b>", items=[item]))["text"]
    assert "<img" not in fallback and "<b>" not in fallback
    assert "[click](javascript" not in fallback
