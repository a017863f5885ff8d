"""deploy/k8s/admission/: the ValidatingWebhookConfiguration example can never hurt a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import celpy
import yaml
from django.conf import settings
from django.urls import reverse

from incidents.rules.engine import check_text
from incidents.rules.objects import WORKLOAD_KINDS
from tests.deploy.helpers import DEPLOY, one

EXAMPLE = DEPLOY / "k8s" / "admission" / "validating-webhook.yaml"
REVIEWS = Path(__file__).resolve().parents[1] / "admission"
KINDS = {
    "deployments": "Deployment",
    "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet",
    "replicasets": "ReplicaSet",
    "replicationcontrollers": "ReplicationController",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "pods": "Pod",
}


def webhook() -> dict:
    (config,) = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
    assert config["kind"] == "ValidatingWebhookConfiguration"
    (hook,) = config["webhooks"]
    return hook


def test_it_fails_open_quickly_and_never_for_kube_system_or_the_kb(manifests):
    hook = webhook()
    assert hook["failurePolicy"] == "Ignore"
    # The KB answers (or allows) within its own limit, below the API server's timeout.
    assert settings.KB_ADMISSION_TIMEOUT_MS / 1000 < hook["timeoutSeconds"] <= 5
    (expression,) = hook["namespaceSelector"]["matchExpressions"]
    assert (expression["key"], expression["operator"]) == ("kubernetes.io/metadata.name", "NotIn")
    kb_namespace = one(manifests, "Namespace")["metadata"]["name"]
    assert set(expression["values"]) == {"kube-system", kb_namespace}
    assert hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]


def test_it_calls_the_endpoint_and_passes_our_own_rules():
    hook = webhook()
    assert hook["clientConfig"]["url"].endswith(reverse("incidents:admission_validate"))
    report = check_text(EXAMPLE.read_text())
    assert (report.findings, report.errors) == ([], [])


def test_it_sends_every_workload_kind_the_rules_check():
    rules = webhook()["rules"]
    assert all(set(r["operations"]) == {"CREATE", "UPDATE"} for r in rules)
    covered = {KINDS[res] for r in rules for res in r["resources"] if res in KINDS}
    assert set(WORKLOAD_KINDS) <= covered


def test_its_match_condition_leaves_out_exactly_what_controllers_make():
    (condition,) = webhook()["matchConditions"]
    env = celpy.Environment()
    program = env.program(env.compile(condition["expression"]))

    def sent(name: str) -> bool:
        review = json.loads((REVIEWS / f"{name}.json").read_text())
        return bool(program.evaluate({"object": celpy.json_to_cel(review["request"]["object"])}))

    assert sent("deployment-create") is True
    assert sent("deployment-update-scale") is True
    assert sent("pod-from-replicaset-create") is False
