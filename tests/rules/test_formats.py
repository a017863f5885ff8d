"""Rendering: the JSON shape shared with the API, SARIF for code scanning, text for people."""

from __future__ import annotations

import json

import pytest

from incidents.rules.engine import check_inputs, check_text
from incidents.rules.formats import render
from tests.rules.helpers import FIXTURES, fake_story_resolver

PRIVILEGED = """apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops}
spec:
  containers:
  - name: agent
    image: weaveworks/scope:1.13.2
    securityContext: {privileged: true}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {memory: 64Mi}
    readinessProbe:
      httpGet: {path: /, port: 4040}
  dnsConfig:
    options: [{name: ndots, value: "1"}]
"""


def test_json_has_exactly_the_shared_shape():
    report = check_text(PRIVILEGED + "---\nkind: [\n")
    data = json.loads(render(report, "json", story_resolver=fake_story_resolver))
    assert set(data) == {"findings", "errors", "warnings", "summary"}
    assert data["findings"] == [
        {
            "rule": {
                "id": "KB021",
                "slug": "privileged-container",
                "title": "Privileged container",
                "severity": "error",
                "url": "/rules/KB021/",
            },
            "object": {"apiVersion": "v1", "kind": "Pod", "namespace": "ops", "name": "agent"},
            "path": "spec.containers[0].securityContext.privileged",
            "message": "container agent is privileged: whoever runs code in it owns the node",
            "document": 0,
            "line": 8,
            "stories": [
                {
                    "slug": "jwplayer-cryptominer",
                    "title": "Story jwplayer-cryptominer",
                    "organisation": "Example Org",
                    "year": 2020,
                    "source_url": "https://example.com/jwplayer-cryptominer",
                    "url": "/stories/jwplayer-cryptominer/",
                }
            ],
            "reports": [],
            "fix": {"summary": data["findings"][0]["fix"]["summary"], "patch": None},
        }
    ]
    assert data["findings"][0]["fix"]["summary"].startswith("Drop `privileged`")
    assert data["errors"] == [
        {
            "document": 1,
            "line": 18,
            "message": data["errors"][0]["message"],
            "code": "yaml-syntax",
        }
    ]
    assert data["summary"] == {
        "documents": 1,
        "checked": 1,
        "skipped": 0,
        "objects": 1,
        "findings": 1,
        "errors": 1,
        "warnings": 0,
        "suppressed": 0,
        "by_severity": {"error": 1, "warning": 0, "info": 0},
    }


def test_stories_the_resolver_does_not_know_are_left_out_and_rule_url_is_pluggable():
    report = check_text(PRIVILEGED)
    data = json.loads(
        render(
            report,
            "json",
            story_resolver=lambda slug: None,
            rule_url=lambda rule_id: f"https://kb.example/rules/{rule_id}/",
        )
    )
    assert data["findings"][0]["stories"] == []
    assert data["findings"][0]["rule"]["url"] == "https://kb.example/rules/KB021/"


def test_text_groups_findings_by_object_and_names_the_stories():
    report = check_inputs([("pod.yaml", PRIVILEGED + "---\n" + PRIVILEGED.replace("agent,", "b,"))])
    text = render(report, "text", story_resolver=fake_story_resolver)
    assert "pod.yaml: Pod ops/agent (document 0)" in text
    assert "error    KB021 privileged-container" in text
    assert "at spec.containers[0].securityContext.privileged (line 8)" in text
    assert (
        "story: Story jwplayer-cryptominer (Example Org, 2020) </stories/jwplayer-cryptominer/>"
        in text
    )
    assert text.rstrip().endswith("0 suppressed.")


def test_sarif_is_2_1_0_with_locations_github_needs():
    report = check_inputs([("k8s/pod.yaml", PRIVILEGED)])
    sarif = json.loads(render(report, "sarif", story_resolver=fake_story_resolver))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules) >= 25
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert "helpUri" not in rule  # relative URLs are not valid SARIF URIs
    (result,) = run["results"]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "KB021"
    location = result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "k8s/pod.yaml"}, "region": {"startLine": 8}}
    assert result["partialFingerprints"]["kbFinding/v1"]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format"):
        render(check_text(""), "xml")


def test_iter_json_is_render_json_in_pieces():
    import json as _json

    from incidents.rules.engine import check_text
    from incidents.rules.formats.json import iter_json, render_json

    text = (
        "".join(
            f"kind: Deployment\nmetadata: {{name: w{i}}}\nspec:\n  template:\n    spec:\n"
            f"      containers: [{{name: a, image: 'x:latest'}}]\n---\n"
            for i in range(300)
        )
        + "a: 1\na: 1\n---\nkind: [unclosed\n"
    )
    report = check_text(text)
    assert len(report.findings) > 300 and report.errors and report.warnings

    def stories(slugs):
        return [{"slug": s} for s in slugs]

    def rule_url(rule_id):
        return f"/rules/{rule_id}/"

    pieces = list(iter_json(report, stories=stories, rule_url=rule_url))
    assert len(pieces) > 1
    assert _json.loads("".join(pieces)) == _json.loads(
        render_json(report, stories=stories, rule_url=rule_url)
    )


def test_text_names_the_public_reports_of_a_rule_without_a_story():
    manifest = (FIXTURES / "KB038" / "deployment-default-surge-FAILS.yaml").read_text()
    out = render(check_text(manifest), "text", story_resolver=fake_story_resolver)
    assert "report: <https://github.com/newrelic/nri-kubernetes/issues/356>" in out


def test_json_and_sarif_carry_the_public_reports_of_a_rule_without_a_story():
    manifest = (FIXTURES / "KB038" / "deployment-default-surge-FAILS.yaml").read_text()
    report = check_text(manifest)
    report_url = "https://github.com/newrelic/nri-kubernetes/issues/356"
    data = json.loads(render(report, "json", story_resolver=fake_story_resolver))
    kb038 = [f for f in data["findings"] if f["rule"]["id"] == "KB038"]
    assert kb038 and all(report_url in f["reports"] for f in kb038)
    sarif = json.loads(render(report, "sarif", story_resolver=fake_story_resolver))
    (rule,) = [r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "KB038"]
    assert report_url in rule["properties"]["reports"]
    assert f"<{report_url}>" in rule["help"]["markdown"]
