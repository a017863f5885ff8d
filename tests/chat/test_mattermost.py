"""/chat/mattermost/: the slash command token; Markdown replies."""

from __future__ import annotations

from tests.chat.conftest import MATTERMOST_TOKEN


def post(client, text, token=MATTERMOST_TOKEN, **extra):
    return client.post(
        "/chat/mattermost/", {"token": token, "text": text, "command": "/kb"}, **extra
    )


def test_it_answers_in_markdown_only_to_the_caller(client, stories):
    response = post(client, "coredns memory")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    text = body["text"]
    assert "[CoreDNS ran out of memory](https://kb.example/stories/dns-outage/)" in text
    assert "**Fix:** Raised the limit and added an autoscaler." in text
    assert "[KB033](https://kb.example/rules/KB033/)" in text


def test_share_posts_in_channel(client, stories):
    assert post(client, "share coredns").json()["response_type"] == "in_channel"


def test_a_wrong_or_missing_token_is_401(client, stories):
    assert post(client, "coredns", token="nope").status_code == 401
    assert client.post("/chat/mattermost/", {"text": "coredns"}).status_code == 401


def test_the_authorization_header_is_accepted(client, stories):
    response = client.post(
        "/chat/mattermost/", {"text": "help"}, HTTP_AUTHORIZATION=f"Token {MATTERMOST_TOKEN}"
    )
    assert response.status_code == 200
    assert "/kb rule" in response.json()["text"]


def test_help_and_rule(client, stories):
    assert "/kb share" in post(client, "").json()["text"]
    assert "KB033" in post(client, "rule dns-memory-limit-low").json()["text"]
