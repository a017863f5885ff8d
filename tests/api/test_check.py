"""POST /api/v1/check/: manifests in, the kbcheck report out."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

LATEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: example.com/web:latest
"""


def rule_ids(body: dict) -> set[str]:
    return {f["rule"]["id"] for f in body["findings"]}


@pytest.mark.parametrize("content_type", ["application/yaml", "application/x-yaml", "text/yaml"])
def test_it_checks_a_raw_yaml_body(client, db, content_type):
    response = client.post("/api/v1/check/", data=LATEST, content_type=content_type)
    assert response.status_code == 200
    body = response.json()
    assert "KB019" in rule_ids(body)
    assert body["summary"]["documents"] == 1 and body["summary"]["objects"] == 1
    finding = next(f for f in body["findings"] if f["rule"]["id"] == "KB019")
    assert finding["object"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": "shop",
        "name": "web",
    }
    assert finding["line"] == 12
    assert finding["rule"]["url"] == "http://testserver/rules/KB019/"
    assert response["KB-Check-Exit-Code"] == "1"


def test_it_checks_a_json_body(client, db):
    import yaml

    response = client.post(
        "/api/v1/check/",
        data=json.dumps(yaml.safe_load(LATEST)),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert "KB019" in rule_ids(response.json())


def test_it_checks_multipart_files_as_one_set(client, db):
    files = [
        SimpleUploadedFile("web.yaml", LATEST.encode()),
        SimpleUploadedFile("empty.yaml", b"kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n"),
    ]
    response = client.post("/api/v1/check/", {"manifests": files}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert body["summary"]["documents"] == 2
    assert {f["file"] for f in body["findings"]} == {"web.yaml"}


def test_findings_link_to_published_stories(client, stories, make_story):
    make_story(slug="datadog-10-ways-shoot-foot", title="10 ways to shoot yourself in the foot")
    body = client.post("/api/v1/check/", data=LATEST, content_type="application/yaml").json()
    finding = next(f for f in body["findings"] if f["rule"]["id"] == "KB019")
    assert finding["stories"] == [
        {
            "slug": "datadog-10-ways-shoot-foot",
            "title": "10 ways to shoot yourself in the foot",
            "organisation": "Example Org",
            "year": 2020,
            "source_url": "https://example.com/post-5",
            "url": "http://testserver/stories/datadog-10-ways-shoot-foot/",
        }
    ]


def test_sarif_fail_on_and_skip(client, db):
    url = "/api/v1/check/?format=sarif&fail_on=error&skip=KB019,memory-limits-missing"
    response = client.post(url, data=LATEST, content_type="application/yaml")
    assert response.status_code == 200
    sarif = response.json()
    assert sarif["version"] == "2.1.0"
    results = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "KB019" not in results and "KB002" not in results
    assert response["KB-Check-Exit-Code"] == "0"


def test_sarif_describes_rules_without_findings_with_their_published_stories(client, make_story):
    """The API and the check page share one story lookup: SARIF describes every rule with its
    stories, not only the rules that found something."""
    from incidents.rules.registry import REGISTRY

    response = client.post(
        "/api/v1/check/?format=sarif", data=LATEST, content_type="application/yaml"
    )
    found = {r["ruleId"] for r in response.json()["runs"][0]["results"]}
    rule = next(r for r in REGISTRY.manifest_rules() if r.id not in found and len(r.stories) >= 2)
    shown, hidden = rule.stories[:2]
    make_story(slug=shown, title="The published one")
    make_story(slug=hidden, title="The draft one", status="draft")
    sarif = client.post(
        "/api/v1/check/?format=sarif", data=LATEST, content_type="application/yaml"
    ).json()
    (descriptor,) = [d for d in sarif["runs"][0]["tool"]["driver"]["rules"] if d["id"] == rule.id]
    assert (
        f"[The published one](http://testserver/stories/{shown}/)" in descriptor["help"]["markdown"]
    )
    assert "The draft one" not in descriptor["help"]["markdown"]


def test_input_of_which_nothing_can_be_checked_is_a_400_with_document_and_line(client, db):
    response = client.post(
        "/api/v1/check/", data="kind: [unclosed\n", content_type="application/yaml"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_manifests"
    assert "document 1, line" in error["message"]
    assert error["details"]["errors"][0]["code"] == "yaml-syntax"
    assert isinstance(error["details"]["errors"][0]["line"], int)


def test_an_alias_bomb_is_refused_with_a_400(client, db):
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n"
    response = client.post("/api/v1/check/", data=bomb, content_type="application/yaml")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_manifests"


def test_a_malformed_document_is_reported_and_the_others_still_checked(client, db):
    body = LATEST + "\n---\nkind: [unclosed\n"
    response = client.post("/api/v1/check/", data=body, content_type="application/yaml")
    assert response.status_code == 200
    report = response.json()
    assert report["findings"]
    assert report["errors"][0]["document"] == 1
    assert response["KB-Check-Exit-Code"] == "2"


@pytest.mark.parametrize(
    ("url", "kwargs", "status", "code"),
    [
        ("/api/v1/check/?skip=KB999", {"data": LATEST}, 400, "invalid_parameter"),
        ("/api/v1/check/?format=xml", {"data": LATEST}, 400, "invalid_parameter"),
        ("/api/v1/check/?fail_on=fatal", {"data": LATEST}, 400, "invalid_parameter"),
        ("/api/v1/check/?verbose=1", {"data": LATEST}, 400, "unknown_parameter"),
        ("/api/v1/check/", {"data": ""}, 400, "no_manifests"),
        ("/api/v1/check/", {"data": LATEST, "content_type": "text/html"}, 415, None),
    ],
)
def test_bad_requests_get_json_errors(client, db, url, kwargs, status, code):
    kwargs.setdefault("content_type", "application/yaml")
    response = client.post(url, **kwargs)
    assert response.status_code == status
    assert response.json()["error"]["code"] == (code or "unsupported_media_type")


def test_manifests_over_the_limit_are_a_413(client, settings, db):
    settings.KB_MAX_MANIFEST_BYTES = 1024
    response = client.post("/api/v1/check/", data=LATEST * 20, content_type="application/yaml")
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "body_too_large",
        "message": "The request body is larger than the limit of 1024 bytes.",
        "details": {"limit_bytes": 1024},
    }


HOSTILE_NUMBERS = {
    "yaml-5000-digit-int": ("application/yaml", "kind: Pod\nspec: {replicas: " + "9" * 5000 + "}"),
    "json-5000-digit-int": ("application/json", '{"kind": "Pod", "n": ' + "9" * 5000 + "}"),
    "json-lone-surrogate": ("application/json", '{"kind": "Pod", "metadata": {"name": "\\ud800"}}'),
    "yaml-sexagesimal": ("application/yaml", "kind: Pod\nn: 1" + ":0" * 50_000),
}


@pytest.mark.parametrize("name", list(HOSTILE_NUMBERS))
def test_numbers_and_strings_python_cannot_handle_are_a_400(client, db, name):
    content_type, body = HOSTILE_NUMBERS[name]
    response = client.post("/api/v1/check/", data=body, content_type=content_type)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_manifests"
    assert error["details"]["errors"][0]["code"] in {"bad-scalar", "bad-unicode"}
    assert len(response.content) < 2000


def _deployments(n: int) -> str:
    return "".join(LATEST.replace("name: web", f"name: web-{i}") + "---\n" for i in range(n))


def test_a_large_report_is_streamed_one_finding_at_a_time(client, db):
    from incidents.api.views.check import STREAM_FINDINGS

    response = client.post(
        "/api/v1/check/", data=_deployments(STREAM_FINDINGS // 4), content_type="application/yaml"
    )
    assert response.status_code == 200
    assert response.streaming
    body = json.loads(b"".join(response.streaming_content))
    assert body["summary"]["findings"] == len(body["findings"]) > STREAM_FINDINGS
    names = {f["object"]["name"] for f in body["findings"]}
    assert len(names) == STREAM_FINDINGS // 4
    assert response["KB-Check-Exit-Code"] == "1"


def test_many_input_errors_are_counted_but_listed_only_up_to_a_bound(client, db):
    body = "a: 1\n" * 200_000  # 1 MiB of duplicate keys
    response = client.post("/api/v1/check/", data=body, content_type="application/yaml")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code in (200, 400)
    assert len(content) < 100_000
    data = json.loads(content)
    if "error" in data:
        listed = data["error"]["details"]["errors"]
    else:  # a key repeated with the same value is a warning
        listed = data["errors"] + data["warnings"]
        assert data["summary"]["warnings"] + data["summary"]["errors"] >= 199_999
    assert 0 < len(listed) <= 100
