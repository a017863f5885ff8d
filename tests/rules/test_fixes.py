"""Every finding carries its fix; mechanical fixes come as a JSON Patch and as a diff."""

from __future__ import annotations

import json
import os
import subprocess

from incidents.rules import cli
from incidents.rules.engine import check_inputs, check_text
from incidents.rules.formats import render
from incidents.rules.registry import REGISTRY

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.2.3
        resources:
          limits:
            cpu: "2500m"   # a comment that must survive
            memory: 512Mi
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: registry.example.com/migrate:1.2.3
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "*/5 * * * *"
  concurrencyPolicy: Allow
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: report
            image: registry.example.com/report:1.2.3
"""
MECHANICAL = {"KB001", "KB015", "KB016"}


def test_every_rule_has_a_one_line_fix_summary():
    for rule in REGISTRY.manifest_rules():
        summary = rule.fix_summary
        assert summary and "\n" not in summary and len(summary) < 320, rule.id
        assert summary[-1] in ".!?", (rule.id, summary)


def test_findings_carry_the_fix_in_json_text_and_sarif():
    report = check_text(APP)
    data = json.loads(render(report, "json"))
    fixes = {f["rule"]["id"]: f["fix"] for f in data["findings"]}
    assert all(set(fix) == {"summary", "patch"} and fix["summary"] for fix in fixes.values())
    assert fixes["KB015"]["patch"] == [{"op": "add", "path": "/spec/backoffLimit", "value": 3}]
    assert fixes["KB016"]["patch"] == [
        {"op": "replace", "path": "/spec/concurrencyPolicy", "value": "Forbid"}
    ]
    assert fixes["KB001"]["patch"] == [
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/resources/requests",
            "value": {"cpu": "2500m"},
        },
        {"op": "remove", "path": "/spec/template/spec/containers/0/resources/limits/cpu"},
    ]
    text = render(report, "text")
    assert "fix: Set `backoffLimit`" in text and '"path": "/spec/backoffLimit"' in text
    sarif = json.loads(render(report, "sarif"))
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    assert results["KB015"]["fixes"][0]["artifactChanges"][0]["replacements"]
    assert all(r["properties"]["fix"]["summary"] for r in results.values())


def test_fix_diff_applies_keeps_comments_and_leaves_no_mechanical_finding(tmp_path, capsys):
    (tmp_path / "app.yaml").write_text(APP)
    before = {f.rule.id for f in check_inputs([("app.yaml", APP)]).findings}
    assert before >= MECHANICAL
    cwd = os.getcwd()
    os.chdir(tmp_path)  # paths given relative, as in a repository
    try:
        cli.main(["--fix-diff", "app.yaml"])
    finally:
        os.chdir(cwd)
    diff = capsys.readouterr().out
    assert diff.startswith("--- a/app.yaml\n+++ b/app.yaml\n")
    subprocess.run(["git", "apply", "-"], input=diff.encode(), cwd=tmp_path, check=True)
    fixed = (tmp_path / "app.yaml").read_text()
    assert "# a comment that must survive" not in fixed  # the cpu line went, with its comment
    assert "memory: 512Mi" in fixed and "backoffLimit: 3" in fixed
    after = {f.rule.id for f in check_inputs([("app.yaml", fixed)]).findings}
    assert not MECHANICAL & after
    assert after <= before  # nothing new (the CPU the pod was scheduled with is kept)
