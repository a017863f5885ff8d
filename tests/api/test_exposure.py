"""POST /api/v1/exposure/: a cluster snapshot in, the exposure report out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

SNAPSHOT = Path(__file__).resolve().parents[1] / "fixtures" / "cluster-snapshot"
URL = "/api/v1/exposure/"


@pytest.fixture
def stories(make_story):
    make_story(slug="circleci-delays-starting-jobs", title="Delays starting jobs", year=2023)
    make_story(slug="a-story-without-conditions", title="Something else")


def uploads():
    return [
        SimpleUploadedFile(p.name, p.read_bytes(), content_type="application/json")
        for p in sorted(SNAPSHOT.glob("*.json"))
    ]


def test_it_answers_a_multipart_snapshot_with_matches_and_evidence(client, stories):
    response = client.post(URL, {"snapshot": uploads()}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["snapshot"]["server_version"] == "v1.27.7-eks-4f4795d"
    assert body["snapshot"]["nodes"] == 5
    story = next(s for s in body["stories"] if s["slug"] == "circleci-delays-starting-jobs")
    assert story["status"] == "exposed"
    assert story["title"] == "Delays starting jobs"
    assert story["url"] == "http://testserver/stories/circleci-delays-starting-jobs/"
    assert "kube-proxy v1.25.6" in story["conditions"][0]["evidence"][0]
    # Only published stories are assessed; the others are listed as having no conditions.
    assert {s["slug"] for s in body["stories"]} == {"circleci-delays-starting-jobs"}
    assert body["no_known_conditions"] == ["a-story-without-conditions"]
    assert body["findings"]["summary"]["findings"] > 0


def test_it_takes_the_files_as_one_json_array_and_answers_sarif(client, stories):
    documents = [json.loads(p.read_text()) for p in sorted(SNAPSHOT.glob("*.json"))]
    response = client.post(
        f"{URL}?format=sarif", json.dumps(documents), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    sarif = response.json()
    assert sarif["version"] == "2.1.0"
    ids = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "story/circleci-delays-starting-jobs" in ids


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "no_snapshot"),
        ("{not json", "invalid_snapshot"),
        ('{"hello": "world"}', "invalid_snapshot"),
        ("[" * 100_000, "invalid_snapshot"),
    ],
)
def test_bad_snapshots_are_400_with_a_json_error(client, stories, body, code):
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_unknown_parameters_and_formats_are_refused(client, stories):
    response = client.post(f"{URL}?formt=json", "{}", content_type="application/json")
    assert response.json()["error"]["code"] == "unknown_parameter"
    response = client.post(f"{URL}?format=xml", "{}", content_type="application/json")
    assert response.json()["error"]["code"] == "invalid_parameter"


def test_a_snapshot_over_the_limit_is_413(client, stories, settings):
    settings.KB_MAX_SNAPSHOT_BYTES = 2048
    response = client.post(URL, "[" + "1," * 2000 + "1]", content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_story_detail_carries_its_exposure_conditions(client, make_story):
    make_story(slug="mindtickle-eks-missing-packet", source_url="https://example.com/mindtickle")
    make_story(slug="no-conditions-known")
    body = client.get("/api/v1/stories/mindtickle-eks-missing-packet/").json()
    exposure = body["exposure"]
    assert exposure["match"] == "all"
    kinds = [c["kind"] for c in exposure["conditions"]]
    assert kinds == ["platform", "env"]
    assert "https://example.com/mindtickle" in exposure["conditions"][0]["sources"]
    assert client.get("/api/v1/stories/no-conditions-known/").json()["exposure"] is None
