"""GET /api/v1/rules/ and /api/v1/rules/{id}/."""

from __future__ import annotations

from incidents.rules.registry import REGISTRY


def test_it_lists_every_rule(client, db):
    body = client.get("/api/v1/rules/").json()
    assert body["count"] == len(REGISTRY)
    first = body["results"][0]
    assert first["id"] == "KB001"
    assert first["url"] == "http://testserver/rules/KB001/"
    assert first["api_url"] == "http://testserver/api/v1/rules/KB001/"
    assert {"slug", "title", "severity", "type", "kinds", "checks", "stories"} <= first.keys()


def test_it_filters_rules(client, db):
    runtime = client.get("/api/v1/rules/", {"type": "runtime"}).json()["results"]
    manifest = client.get("/api/v1/rules/", {"type": "manifest"}).json()["results"]
    assert all(r["type"] == "runtime" for r in runtime)
    assert manifest and all(r["type"] == "manifest" for r in manifest)
    assert len(runtime) + len(manifest) == len(REGISTRY)
    errors = client.get("/api/v1/rules/", {"severity": "error"}).json()["results"]
    assert errors and all(r["severity"] == "error" for r in errors)
    cronjobs = client.get("/api/v1/rules/", {"kind": "CronJob"}).json()["results"]
    assert cronjobs and all("CronJob" in r["kinds"] for r in cronjobs)


def test_detail_has_docs_linked_stories_and_examples(client, stories):
    body = client.get("/api/v1/rules/KB033/").json()
    assert body["id"] == "KB033"
    assert body["why"] and body["fix"] and body["fix_example"] and body["references"]
    assert body["failing_examples"] and body["passing_examples"]
    assert "kind:" in body["failing_examples"][0]["manifest"]
    linked = {s["slug"]: s for s in body["stories"]}
    assert linked["dns-outage"]["note"] == "A higher limit would have held."
    assert linked["dns-outage"]["api_url"] == "http://testserver/api/v1/stories/dns-outage/"


def test_detail_accepts_a_slug_or_lowercase_id(client, db):
    assert client.get("/api/v1/rules/kb033/").json()["id"] == "KB033"
    assert client.get("/api/v1/rules/dns-memory-limit-low/").json()["id"] == "KB033"


def test_an_unknown_rule_is_a_json_404(client, db):
    response = client.get("/api/v1/rules/KB999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
