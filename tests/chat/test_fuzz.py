"""Property tests of the chat parsers: whatever a signed (or unsigned) request carries, parsing
answers text or None, never raises, and never takes long."""

from __future__ import annotations

import json
import re
import time

from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.chat import mattermost, slack, teams

FACTORY = RequestFactory()

_text_pieces = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["<at>", "</at>", "<at>KB</at>", "&nbsp;", "<b>", "\\ud800", "\x00"]),
)
_texts = st.lists(_text_pieces, max_size=60).map("".join)


@st.composite
def teams_bodies(draw) -> bytes:
    """JSON activity bodies with hostile shapes: deep nesting, lone surrogate escapes, floods of
    mention tags, wrong types; and bytes that are not JSON at all."""
    kind = draw(st.sampled_from(["message", "deep", "surrogate", "flood", "types", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "deep":
        n = draw(st.integers(500, 20_000))
        return ('{"type": "message", "text": "x", "a": ' + "[" * n + "]" * n + "}").encode()
    if kind == "surrogate":
        escape = draw(st.sampled_from(["\\ud800", "\\udfff", "\\ud83d\\ude00", "\\udc00\\ud800"]))
        return ('{"type": "message", "text": "<at>KB</at> dns ' + escape + '"}').encode()
    if kind == "flood":
        tag = draw(st.sampled_from(["<at>", "<at>x", "</at>", "<at></at>", "<"]))
        text = tag * draw(st.integers(1, 12_000)) + draw(st.text(max_size=10))
        return json.dumps({"type": "message", "text": text}).encode()
    if kind == "types":
        value = draw(st.one_of(st.none(), st.integers(), st.lists(st.text(max_size=3))))
        return json.dumps({"type": "message", "text": value}).encode()
    return json.dumps({"type": "message", "text": draw(_texts)}).encode()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(teams_bodies())
def test_teams_parse_never_raises_and_is_fast(body):
    request = FACTORY.post("/chat/teams/", data=body, content_type="application/json")
    started = time.process_time()
    text = teams.parse(request)
    assert time.process_time() - started < 0.5
    if text is not None:
        text.encode("utf-8")
        assert len(text) <= teams.MAX_TEXT_CHARS


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_drop_mentions_equals_the_regular_expression(text):
    assert teams.drop_mentions(text) == re.sub(r"<at>.*?</at>", " ", text, flags=re.DOTALL)


_header_values = st.one_of(
    st.text(max_size=40),
    st.text("0123456789", min_size=1, max_size=500),
    st.sampled_from(["\u00b2", "\u0661\u0662", "1e9", "-5", " 1", "\x00"]),
)


@settings(max_examples=300, deadline=None)
@given(timestamp=_header_values, signature=_header_values, body=st.binary(max_size=100))
def test_slack_verify_answers_false_for_any_header(timestamp, signature, body):
    from django.test import override_settings

    request = FACTORY.post(
        "/chat/slack/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=timestamp,
        HTTP_X_SLACK_SIGNATURE="v0=" + signature,
    )
    with override_settings(SLACK_SIGNING_SECRET=["secret"]):
        assert slack.verify(request) is False


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.one_of(st.text(max_size=50), st.integers(1, 5000).map(lambda n: "[" * n)))
def test_slack_interaction_payloads_never_raise(payload):
    request = FACTORY.post("/chat/slack/", data={"payload": payload})
    assert slack.parse_interaction(request) is None


@settings(max_examples=100, deadline=None)
@given(token=_header_values, auth=_header_values)
def test_mattermost_verify_answers_false_for_any_token(token, auth):
    from django.test import override_settings

    request = FACTORY.post("/chat/mattermost/", data={"token": token}, HTTP_AUTHORIZATION=auth)
    with override_settings(MATTERMOST_TOKEN=["mm-token-123"]):
        assert mattermost.verify(request) is False
