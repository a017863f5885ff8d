"""POST /admission/validate: AdmissionReview v1 in, warnings by default, deny at a configured
severity, hard limits, fail open. The bodies are AdmissionReviews as the API server sends them."""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

import pytest
from django.test import Client

from incidents.rules.engine import check_text

HERE = Path(__file__).parent
URL = "/admission/validate"


def body(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text())


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)  # the API server sends no CSRF token


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://kb.example"
    settings.KB_ADMISSION_DENY_AT = "off"


def post(client: Client, data, **extra):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return client.post(URL, data=raw, content_type="application/json", **extra)


def answer(response) -> dict:
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["apiVersion"], data["kind"]) == ("admission.k8s.io/v1", "AdmissionReview")
    return data["response"]


def rule_ids(warnings: list[str]) -> set[str]:
    return {w.split(" ", 1)[0] for w in warnings}


def test_a_deployment_create_is_allowed_with_a_warning_per_finding(client):
    review = body("deployment-create")
    result = answer(post(client, review))
    assert result["uid"] == review["request"]["uid"]
    assert result["allowed"] is True
    assert "status" not in result
    privileged = next(w for w in result["warnings"] if w.startswith("KB021 "))
    assert privileged == (
        "KB021 privileged-container: container web is privileged: whoever runs code in it owns "
        "the node (https://kb.example/stories/jwplayer-cryptominer/)"
    )
    assert {"KB019", "KB021"} <= rule_ids(result["warnings"])


def test_warnings_are_what_kbcheck_reports_for_that_object_alone(client):
    review = body("deployment-create")
    result = answer(post(client, review))
    alone = check_text(json.dumps(review["request"]["object"]))
    # Rules that look at other objects (a PodDisruptionBudget for 3 replicas, a Service in
    # front) would only guess from one object: they are left out, the others match kbcheck.
    assert "KB010" in {f.rule.id for f in alone.findings}
    assert "KB010" not in rule_ids(result["warnings"])
    assert len(result["warnings"]) == len(
        [f for f in alone.findings if f.rule.id in rule_ids(result["warnings"])]
    )


def test_deny_at_error_denies_a_create_with_an_error_finding(client, settings):
    settings.KB_ADMISSION_DENY_AT = "error"
    result = answer(post(client, body("deployment-create")))
    assert result["allowed"] is False
    assert result["status"]["code"] == 403
    assert result["status"]["message"].startswith("kbcheck: KB021 privileged-container:")
    assert "KB019" not in result["status"]["message"]  # a warning never denies at "error"
    assert result["warnings"]


def test_an_update_is_denied_only_for_what_it_adds(client, settings):
    settings.KB_ADMISSION_DENY_AT = "error"
    adds = answer(post(client, body("deployment-update-adds-privileged")))
    assert adds["allowed"] is False
    assert "KB021" in adds["status"]["message"]
    # Scaling a Deployment that was already privileged: warned, not blocked.
    scale = answer(post(client, body("deployment-update-scale")))
    assert scale["allowed"] is True
    assert "KB021" in rule_ids(scale["warnings"])


def test_a_delete_is_allowed_without_a_look(client, settings):
    settings.KB_ADMISSION_DENY_AT = "info"
    result = answer(post(client, body("deployment-delete")))
    assert result == {"uid": body("deployment-delete")["request"]["uid"], "allowed": True}


def test_a_pod_made_by_a_controller_is_allowed_without_warnings(client, settings):
    settings.KB_ADMISSION_DENY_AT = "error"
    review = body("pod-from-replicaset-create")
    assert answer(post(client, review)) == {"uid": review["request"]["uid"], "allowed": True}
    # The same Pod created by a person is reviewed like anything else.
    mine = copy.deepcopy(review)
    del mine["request"]["object"]["metadata"]["ownerReferences"]
    result = answer(post(client, mine))
    assert result["allowed"] is False
    assert "KB021" in rule_ids(result["warnings"])


def test_the_ignore_annotation_silences_a_rule(client, settings):
    settings.KB_ADMISSION_DENY_AT = "error"
    review = body("deployment-create")
    metadata = review["request"]["object"]["metadata"]
    metadata["annotations"] = {"kb.k8s.af/ignore": "KB021: node agent, reviewed"}
    result = answer(post(client, review))
    assert result["allowed"] is True
    assert "KB021" not in rule_ids(result["warnings"])


def test_warnings_stay_within_what_the_api_server_keeps(client):
    review = body("deployment-create")
    pod_spec = review["request"]["object"]["spec"]["template"]["spec"]
    first = pod_spec["containers"][0]
    pod_spec["containers"] = [
        {**first, "name": f"sidecar-{'x' * 200}-{i}", "image": "busybox"} for i in range(60)
    ]
    warnings = answer(post(client, review))["warnings"]
    assert all(len(w) <= 256 for w in warnings)
    assert sum(len(w) for w in warnings) <= 4096
    assert warnings[-1].startswith("kbcheck: ") and "more finding(s) not shown" in warnings[-1]


def test_a_body_over_the_limit_is_refused_with_413(client, settings):
    settings.KB_ADMISSION_MAX_BYTES = 1024
    response = post(client, body("deployment-create"))
    assert response.status_code == 413
    assert response.json()["error"]["status"] == 413


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        json.dumps({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}).encode(),
        json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).encode(),
        json.dumps(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}
        ).encode(),
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_what_is_not_an_admission_review_gets_a_400_json_error(client, raw):
    response = post(client, raw)
    assert response.status_code == 400
    assert "AdmissionReview" in response.json()["error"]["message"]


def test_only_post_is_accepted(client):
    assert client.get(URL).status_code == 405


def test_an_internal_error_fails_open_and_says_so_in_the_log(client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("incidents.views.admission.review", broken)
    review = body("deployment-create")
    with caplog.at_level(logging.ERROR, logger="kb.admission"):
        result = answer(post(client, review))
    assert result["allowed"] is True
    assert result["uid"] == review["request"]["uid"]
    assert "allowed unchecked" in result["warnings"][0]
    assert any(
        "fail-open" in r.getMessage() and "RuntimeError" in r.getMessage() for r in caplog.records
    )


def test_a_review_over_the_time_limit_fails_open(client, monkeypatch, settings, caplog):
    settings.KB_ADMISSION_TIMEOUT_MS = 50
    settings.KB_ADMISSION_DENY_AT = "error"

    def slow(*args, **kwargs):
        time.sleep(0.5)
        raise AssertionError("not reached in time")

    monkeypatch.setattr("incidents.views.admission.review", slow)
    started = time.perf_counter()
    with caplog.at_level(logging.ERROR, logger="kb.admission"):
        result = answer(post(client, body("deployment-create")))
    assert time.perf_counter() - started < 0.4
    assert result["allowed"] is True
    assert "longer than 50 ms" in result["warnings"][0]
    assert any("fail-open" in r.getMessage() for r in caplog.records)


def test_each_review_is_logged_with_its_decision(client, caplog):
    review = body("deployment-create")
    with caplog.at_level(logging.INFO, logger="kb.admission"):
        answer(post(client, review))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "kb.admission"]
    assert line.startswith(f"admission allowed uid={review['request']['uid']} CREATE Deployment")
    assert "shop/web" in line
