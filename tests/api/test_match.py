"""POST /api/v1/match/: free text in, likely stories with the terms that explain them."""

from __future__ import annotations

import json


def test_it_matches_an_error_message(client, stories):
    response = client.post(
        "/api/v1/match/",
        {
            "text": "Back-off restarting failed container, Last State: Terminated, Reason: "
            "OOMKilled, Exit Code: 137"
        },
        format="json",
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["slug"] == "oom-storm"
    assert results[0]["matched_terms"]
    assert results[0]["api_url"] == "http://testserver/api/v1/stories/oom-storm/"


def test_it_accepts_plain_text_and_k8sgpt_json(client, stories):
    k8sgpt = json.dumps(
        {
            "results": [
                {
                    "kind": "Pod",
                    "error": [{"Text": "dial udp 10.0.0.10:53: i/o timeout resolving coredns"}],
                }
            ]
        }
    )
    response = client.post("/api/v1/match/", data=k8sgpt, content_type="text/plain")
    assert response.status_code == 200
    assert response.json()["results"][0]["slug"] == "dns-outage"


def test_limit_bounds_the_results(client, stories):
    body = {"text": "pods memory dns ingress 502 coredns oom", "limit": 1}
    assert len(client.post("/api/v1/match/", body, format="json").json()["results"]) == 1


def test_bad_bodies_are_400s(client, stories):
    for body in ({}, {"text": ""}, {"text": "x", "limit": 0}, ["text"]):
        response = client.post("/api/v1/match/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid"
    response = client.post("/api/v1/match/", data=b"\xff\xfe", content_type="text/plain")
    assert response.json()["error"]["code"] == "malformed_body"


def test_deeply_nested_json_is_matched_as_text_or_refused_never_a_500(client, stories):
    """Pasted JSON nested past the decoder's recursion limit (or just under it) is matched as
    plain text; a JSON body nested that deep is a 400 like any other malformed JSON."""
    for depth in (900, 10_000):
        deep = "[" * depth + '"OOMKilled"' + "]" * depth
        as_text = client.post("/api/v1/match/", data=deep, content_type="text/plain")
        assert as_text.status_code == 200, depth
        in_field = client.post("/api/v1/match/", {"text": deep}, format="json")
        assert in_field.status_code == 200, depth
        assert in_field.json()["results"][0]["slug"] == "oom-storm"
    body = client.post("/api/v1/match/", data="[" * 10_000 + "]" * 10_000,
                       content_type="application/json")  # fmt: skip
    assert body.status_code == 400
    assert body.json()["error"]["code"] == "malformed_body"
