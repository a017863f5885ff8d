"""Every 4xx from the API is {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

import pytest


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]


def test_an_unknown_filter_is_refused_not_ignored(client, stories):
    e = error(client.get("/api/v1/stories/", {"categroy": "dns"}), 400)
    assert e["code"] == "unknown_parameter"
    assert e["details"]["unknown"] == ["categroy"]
    assert "category" in e["details"]["allowed"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "x"},
        {"per_page": "1000"},
        {"per_page": "-1"},
        {"page": "1e9"},
        {"page": "1001"},  # deeper than the search ranks (search.MAX_PAGE)
    ],
)
def test_bad_pagination_is_a_400(client, stories, params):
    assert error(client.get("/api/v1/stories/", params), 400)["code"] == "invalid_pagination"


@pytest.mark.parametrize(
    "params",
    [
        {"platform": "mars"},
        {"year": "19"},
        {"ordering": "secret"},
        {"has_rules": "maybe"},
        {"q": "x" * 501},
        {"q": "a\x00b"},
        {"category": "<script>"},
    ],
)
def test_bad_filter_values_are_a_400(client, stories, params):
    assert error(client.get("/api/v1/stories/", params), 400)["code"] == "invalid_parameter"


def test_malformed_json_is_a_400(curator_client, stories):
    response = curator_client.post(
        "/api/v1/stories/", data=b'{"title": ', content_type="application/json"
    )
    assert error(response, 400)["code"] == "malformed_body"


def test_a_body_over_the_limit_is_a_413(curator_client, settings, stories):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = curator_client.post(
        "/api/v1/stories/", data=b"{" + b" " * 4096 + b"}", content_type="application/json"
    )
    assert error(response, 413)["code"] == "body_too_large"


def test_unknown_api_paths_are_json_404s(client, db):
    assert error(client.get("/api/v1/nothing-here/"), 404)["code"] == "not_found"
    assert error(client.get("/api/v2/"), 404)["code"] == "not_found"


def test_wrong_method_and_media_type(client, curator_client, stories):
    assert error(client.delete("/api/v1/rules/"), 405)["code"] == "method_not_allowed"
    response = curator_client.post("/api/v1/stories/", data="x", content_type="text/csv")
    assert error(response, 415)["code"] == "unsupported_media_type"


def test_validation_errors_name_the_field(curator_client, stories):
    e = error(curator_client.post("/api/v1/stories/", {"title": "x"}, format="json"), 400)
    assert e["code"] == "invalid"
    assert "slug" in e["details"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stories/?platform=" + "%3Cscript%3Ealert(1)%3C/script%3E" * 300,
        "/api/v1/stories/?ordering=" + "x" * 20_000,
        "/api/v1/stories/?" + "&".join(f"bad{i}=1" for i in range(500)),
        "/api/v1/stories/?year=" + ",".join(["abc"] * 500),
    ],
    ids=["echoed-script", "long-value", "many-unknown-parameters", "many-bad-values"],
)
def test_400_bodies_are_json_and_bounded_whatever_the_input(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert len(response.content) < 8_000
    assert response.json()["error"]["code"]
