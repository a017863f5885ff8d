"""The engine: objects from every input shape, suppression, skip, params, exit codes."""

from __future__ import annotations

import json

import pytest

from incidents.rules.base import Rule, Severity
from incidents.rules.engine import IGNORE_ANNOTATION, UsageError, check_inputs, check_text
from incidents.rules.parsing import Limits

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
{annotations}
spec:
  containers:
  - name: app
    image: nginx:latest
    securityContext: {{privileged: true}}
"""


def pod(annotations: str = "") -> str:
    return POD.format(annotations=annotations)


def ids(report):
    return sorted(f.rule.id for f in report.findings)


def test_it_reports_rule_object_path_document_and_line():
    report = check_text(pod())
    privileged = next(f for f in report.findings if f.rule.id == "KB021")
    assert privileged.object == {
        "apiVersion": "v1",
        "kind": "Pod",
        "namespace": "shop",
        "name": "web",
    }
    assert privileged.path == "spec.containers[0].securityContext.privileged"
    assert privileged.document == 0
    assert privileged.line == 12  # the securityContext line (the text starts with a newline)
    assert report.summary["objects"] == 1 and report.summary["documents"] == 1


def test_the_ignore_annotation_silences_listed_ids_and_slugs_with_a_reason():
    before = ids(check_text(pod()))
    assert {"KB019", "KB021"} <= set(before)
    note = f'  annotations:\n    {IGNORE_ANNOTATION}: "KB021, image-latest-tag: lab pod"'
    report = check_text(pod(note))
    assert "KB021" not in ids(report) and "KB019" not in ids(report)
    assert report.suppressed == 2
    assert len(report.findings) == len(before) - 2


def test_the_ignore_annotation_does_not_leak_to_other_objects():
    note = f'  annotations:\n    {IGNORE_ANNOTATION}: "KB021"'
    report = check_text(pod(note) + "---\n" + pod().replace("name: web", "name: other"))
    assert [f.object["name"] for f in report.findings if f.rule.id == "KB021"] == ["other"]


def test_skip_takes_ids_slugs_and_comma_lists():
    report = check_text(pod(), skip=["kb021", "image-latest-tag,KB002"])
    assert not {"KB021", "KB019", "KB002"} & set(ids(report))
    with pytest.raises(UsageError, match="unknown rule"):
        check_text(pod(), skip=["KB999"])


def test_params_are_checked():
    with pytest.raises(UsageError, match="unknown parameter"):
        check_text(pod(), params={"nope": "1"})
    with pytest.raises(UsageError, match="pod-cidr"):
        check_text(pod(), params={"pod-cidr": "not-a-cidr"})


def test_list_items_are_objects_with_paths_inside_the_item_and_real_lines():
    items = [json.loads(json.dumps({"apiVersion": "v1", "kind": "ConfigMap"}))]
    items.append(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]
            },
        }
    )
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1)
    report = check_text(text)
    finding = next(f for f in report.findings if f.rule.id == "KB021")
    assert finding.path == "spec.containers[0].securityContext.privileged"
    assert text.splitlines()[finding.line - 1].strip() == '"privileged": true'
    assert report.objects == 2


def test_unknown_kinds_and_non_objects_are_ignored():
    report = check_text("kind: FancyCustomThing\nspec: {x: 1}\n---\n- a\n---\nplain\n---\n")
    assert report.findings == [] and report.errors == [] and report.objects == 1


def test_input_problems_become_error_entries_never_exceptions():
    report = check_text("a: b\n" * 100, limits=Limits(max_bytes=50))
    assert [e.code for e in report.errors] == ["too-large"]
    report = check_text(pod() + "---\nkind: [\n---\n" + pod())
    assert [e.code for e in report.errors] == ["yaml-syntax"]
    assert [f.document for f in report.findings if f.rule.id == "KB021"] == [0, 2]


def test_a_crashing_rule_becomes_an_error_and_the_others_still_run(monkeypatch):
    from incidents.rules import registry

    def boom(obj, ctx):
        raise RuntimeError("bug")

    broken = Rule(
        **{
            **{
                f: getattr(registry.REGISTRY.get("KB021"), f)
                for f in (
                    "id",
                    "slug",
                    "title",
                    "severity",
                    "checks",
                    "why",
                    "fix",
                    "fix_example",
                    "references",
                    "stories",
                    "kinds",
                )
            },
            "check": boom,
        }
    )
    rules = [broken, registry.REGISTRY.get("KB019")]
    report = check_inputs([(None, pod())], rules=rules)
    assert [e.code for e in report.errors] == ["rule-failed"]
    assert ids(report) == ["KB019"]


def test_exit_codes_follow_fail_on():
    report = check_text(pod())
    assert report.exit_code("error") == 1
    assert check_text(pod(), skip=["KB021", "KB023"]).exit_code(Severity.ERROR) == 0
    assert check_text("kind: [").exit_code("info") == 2
    assert check_text("").exit_code("info") == 0


def test_several_inputs_share_cross_object_context_and_keep_their_names():
    deployment = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: "web:1", ports: [{containerPort: 80}]}
"""
    service = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
        "spec: {selector: {app: web}, ports: [{port: 80}]}\n"
    )
    report = check_inputs([("dep.yaml", deployment), ("svc.yaml", service)])
    readiness = [f for f in report.findings if f.rule.id == "KB003"]
    assert [f.file for f in readiness] == ["dep.yaml"]
    assert not [f for f in report.findings if f.rule.id == "KB027"]
