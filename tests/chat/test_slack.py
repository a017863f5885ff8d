"""/chat/slack/: signed requests only; Block Kit replies, ephemeral with a share button."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest

from incidents.chat import slack
from tests.chat.conftest import SLACK_SECRETS


def signed_post(client, form: dict, *, secret=SLACK_SECRETS[0], ts=None, signature=None):
    body = urlencode(form)
    ts = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return client.post(
        "/chat/slack/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=ts,
        HTTP_X_SLACK_SIGNATURE=signature or f"v0={digest}",
    )


def command(text: str) -> dict:
    return {
        "command": "/kb",
        "text": text,
        "user_id": "U1",
        "response_url": "https://hooks.slack.com/x",
    }


def test_it_answers_with_the_top_stories_as_block_kit(client, stories):
    response = signed_post(client, command("coredns memory"))
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "CoreDNS ran out of memory" in body["text"]  # the plain-text fallback
    first = body["blocks"][1]["text"]["text"]
    assert "<https://kb.example/stories/dns-outage/|CoreDNS ran out of memory>" in first
    assert "*Symptom:* Timeouts resolving service names; NXDOMAIN spikes." in first
    assert "*Fix:* Raised the limit and added an autoscaler." in first
    assert "<https://kb.example/rules/KB033/|KB033>" in first
    button = body["blocks"][-1]["elements"][0]
    assert button["action_id"] == "kb_share" and button["value"] == "coredns memory"
    assert len([b for b in body["blocks"] if "Symptom" in str(b)]) <= 3


def test_the_previous_secret_still_works_during_rotation(client, stories):
    assert signed_post(client, command("dns"), secret=SLACK_SECRETS[1]).status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "wrong-secret"},
        {"ts_offset": -400},  # relative to when the test runs, not to collection time
        {"ts_offset": 400},
        {"signature": "v0=" + "0" * 64},
        {"signature": "garbage"},
    ],
)
def test_anything_failing_verification_gets_401_and_no_data(client, stories, kwargs):
    kwargs = dict(kwargs)
    if "ts_offset" in kwargs:
        kwargs["ts"] = int(time.time()) + kwargs.pop("ts_offset")
    response = signed_post(client, command("coredns"), **kwargs)
    assert response.status_code == 401
    assert b"CoreDNS" not in response.content


def test_unsigned_and_unconfigured_are_refused(client, stories, settings):
    body = urlencode(command("coredns"))
    response = client.post("/chat/slack/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    settings.SLACK_SIGNING_SECRET = []
    assert signed_post(client, command("coredns")).status_code == 401


def test_help_empty_and_rule(client, stories):
    for text in ("", "help"):
        body = signed_post(client, command(text)).json()
        # Slack reads <...> in the fallback text as a link or mention: escaped, as in blocks.
        assert "/kb rule &lt;ID&gt;" in body["text"]
    body = signed_post(client, command("rule KB033")).json()
    assert body["text"].startswith("KB033 ")
    assert "CoreDNS ran out of memory" in body["text"]
    body = signed_post(client, command("rule KB999")).json()
    assert "There is no rule" in body["text"]


def test_a_misspelt_query_answers_with_the_corrected_results(client, stories):
    body = signed_post(client, command("corednz")).json()
    assert body["text"].startswith("Showing results for “coredns”")
    assert "CoreDNS ran out of memory" in body["text"]
    assert "exact=1" in body["text"]  # a link to search for the query as typed


def test_no_results_says_so(client, stories):
    body = signed_post(client, command("zzzzqqq")).json()
    assert body["text"].startswith("No stories match")


def test_share_posts_the_answer_to_the_channel(client, stories, monkeypatch):
    posted = []
    monkeypatch.setattr(slack, "post_to_response_url", lambda url, msg: posted.append((url, msg)))
    payload = {
        "type": "block_actions",
        "user": {"id": "U42"},
        "response_url": "https://hooks.slack.com/actions/T/1/abc",
        "actions": [{"action_id": "kb_share", "value": "coredns memory"}],
    }
    response = signed_post(client, {"payload": json.dumps(payload)})
    assert response.status_code == 200
    [(url, message)] = posted
    assert url == payload["response_url"]
    assert message["response_type"] == "in_channel"
    assert "shared by <@U42>" in json.dumps(message)
    assert "kb_share" not in json.dumps(message)


def test_share_never_posts_outside_slack(client, stories, monkeypatch):
    posted = []
    monkeypatch.setattr(slack, "post_to_response_url", lambda url, msg: posted.append(url))
    payload = {
        "response_url": "https://evil.example/steal",
        "actions": [{"action_id": "kb_share", "value": "coredns"}],
    }
    assert signed_post(client, {"payload": json.dumps(payload)}).status_code == 200
    assert posted == []


def test_story_text_cannot_inject_slack_markup(client, stories, make_story):
    from incidents import search

    make_story(slug="evil", title="<!channel> pwned <https://evil|x>", symptom="a & b < c")
    search.rebuild()
    body = signed_post(client, command("pwned")).json()
    text = json.dumps(body["blocks"])
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text


def test_get_is_not_allowed(client, db):
    assert client.get("/chat/slack/").status_code == 405


def test_the_five_minute_window_is_enforced_exactly(rf):
    body = b"text=x"
    now = 1_700_000_000
    digest = hmac.new(SLACK_SECRETS[0].encode(), f"v0:{now}:".encode() + body, hashlib.sha256)
    request = rf.post(
        "/chat/slack/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=str(now),
        HTTP_X_SLACK_SIGNATURE="v0=" + digest.hexdigest(),
    )
    assert slack.verify(request, now=now + 300)
    assert not slack.verify(request, now=now + 301)
    assert not slack.verify(request, now=now - 301)


@pytest.mark.parametrize("ts", ["\u00b2", "\u0661\u0662\u0663", "9" * 400, "\u00e9"])
def test_a_timestamp_header_with_non_ascii_or_huge_digits_is_401(client, stories, ts):
    # The test client encodes header values like a WSGI server decodes them (Latin-1).
    body = urlencode(command("coredns"))
    response = client.post(
        "/chat/slack/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=ts,
        HTTP_X_SLACK_SIGNATURE="v0=" + "0" * 64,
    )
    assert response.status_code == 401


def test_a_deeply_nested_share_payload_is_ignored(client, stories):
    payload = "[" * 10_000 + "]" * 10_000
    response = signed_post(client, {"payload": payload})
    assert response.status_code == 200


def test_the_plain_text_fallback_escapes_markup(client, stories):
    from incidents.chat.replies import Reply, StoryItem

    item = StoryItem(
        title="<!channel> <https://evil.example|click>",
        url="https://kb.example/stories/x/",
        context="",
        symptom="",
        fix="",
        rules=[],
    )
    text = slack.fallback_text(Reply(kind="results", heading="x", items=[item]))
    assert "<!channel>" not in text and "<https://evil" not in text
