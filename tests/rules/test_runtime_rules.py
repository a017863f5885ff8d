"""Runtime (PromQL) rules: export formats, and promtool check/test when promtool is available.

CI installs promtool (Debian package `prometheus`); there a missing promtool fails the test
instead of skipping it, so the PromQL is never left unchecked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from incidents.rules.registry import REGISTRY
from incidents.rules.runtime import export_prometheus_rule, export_rule_file

PROMTOOL_TESTS = Path(__file__).parent / "promtool"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI (apt-get install prometheus)")
        pytest.skip("promtool not installed")
    return path


def test_the_prometheus_rule_manifest_carries_every_runtime_rule():
    manifest = yaml.safe_load(export_prometheus_rule(base_url="https://kb.example/"))
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    (group,) = manifest["spec"]["groups"]
    alerts = {r["labels"]["kb_rule"]: r for r in group["rules"]}
    assert set(alerts) == {r.id for r in REGISTRY.runtime_rules()}
    first = alerts["KBP001"]
    assert first["alert"] == "KBCpuThrottlingHigh" and first["for"] == "15m"
    assert first["labels"]["severity"] == "warning"
    assert first["annotations"]["runbook_url"] == "https://kb.example/rules/KBP001/"


def test_every_runtime_rule_has_a_promtool_unit_test():
    tested = {p.stem for p in PROMTOOL_TESTS.glob("*.yaml")}
    assert tested == {r.id for r in REGISTRY.runtime_rules()}
    for rule in REGISTRY.runtime_rules():
        text = (PROMTOOL_TESTS / f"{rule.id}.yaml").read_text()
        assert f"alertname: {rule.alert_name}" in text
        assert "exp_alerts: []" in text, f"{rule.id}: no quiet case"


@pytest.fixture
def rule_dir(tmp_path):
    (tmp_path / "kb-rules.yaml").write_text(export_rule_file())
    for path in PROMTOOL_TESTS.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_promtool_check_rules_accepts_every_expression(rule_dir):
    result = subprocess.run(
        [promtool(), "check", "rules", str(rule_dir / "kb-rules.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(REGISTRY.runtime_rules())} rules found" in result.stdout


def test_promtool_unit_tests_show_each_alert_firing_and_quiet(rule_dir):
    tests = sorted(str(p) for p in rule_dir.glob("KBP*.yaml"))
    result = subprocess.run(
        [promtool(), "test", "rules", *tests], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kbcheck_export_as_rules_file_passes_promtool_check_rules(tmp_path):
    """What `kbcheck --export prometheus --as rules-file > kb-alerts.yaml` writes, as a process."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "incidents.rules.cli",
            "--export",
            "prometheus",
            "--as",
            "rules-file",
            "--site-url",
            "https://kb.example",
        ],
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rules_file = tmp_path / "kb-alerts.yaml"
    rules_file.write_bytes(result.stdout)
    assert list(yaml.safe_load(result.stdout)) == ["groups"]
    check = subprocess.run(
        [promtool(), "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {len(REGISTRY.runtime_rules())} rules found" in check.stdout
