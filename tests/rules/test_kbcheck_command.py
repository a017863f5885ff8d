"""`manage.py kbcheck`: files, directories and stdin in; text/JSON/SARIF out; exit 0/1/2.

Story links come from the story files, not the database (tests/rules/test_kbcheck_cli.py).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_APP = Path(__file__).parent / "apps" / "well-configured.yaml"
PRIVILEGED = FIXTURES / "KB021" / "scope-agent-FAILS.yaml"


def run(*args, stdin: bytes | None = None, monkeypatch=None) -> tuple[int, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    out = io.StringIO()
    try:
        call_command("kbcheck", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


@pytest.mark.django_db
def test_a_clean_file_exits_0():
    code, out = run(str(GOOD_APP))
    assert code == 0
    assert out.startswith("0 finding(s)")


def test_findings_exit_1_with_rule_path_line_and_stories():
    code, out = run(str(PRIVILEGED), "--base-url", "https://kb.example")
    assert code == 1
    assert f"{PRIVILEGED}: DaemonSet weave/weave-scope-agent (document 0)" in out
    assert "error    KB021 privileged-container" in out
    assert "at spec.template.spec.containers[0].securityContext.privileged (line 18)" in out
    assert (
        "story: How A Cryptocurrency Miner Made Its Way onto Our Internal Kubernetes Clusters "
        "(JW Player, 2019) <https://kb.example/stories/jwplayer-cryptominer/>"
    ) in out


@pytest.mark.django_db
def test_fail_on_and_skip_decide_the_exit_code():
    assert run(str(PRIVILEGED), "--fail-on", "error")[0] == 1
    skip = "KB021,KB023"
    assert run(str(PRIVILEGED), "--fail-on", "error", "--skip", skip)[0] == 0


@pytest.mark.django_db
def test_stdin_json_and_params(monkeypatch):
    nodes = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": f"n{i}"},
                "spec": {"podCIDR": f"10.8.{i}.0/24"},
            }
            for i in range(4)
        ],
    }
    stdin = json.dumps(nodes).encode()
    code, out = run(
        "-",
        "--format",
        "json",
        "--param",
        "pod-cidr=10.8.0.0/22",
        stdin=stdin,
        monkeypatch=monkeypatch,
    )
    assert code == 1
    data = json.loads(out)
    assert [f["rule"]["id"] for f in data["findings"]] == ["KB031"]
    assert data["findings"][0]["object"]["name"] == "n3"
    assert data["findings"][0]["file"] == "stdin"


@pytest.mark.django_db
def test_directories_are_walked_and_sarif_is_printed(tmp_path):
    (tmp_path / "a.yaml").write_text(PRIVILEGED.read_text())
    (tmp_path / "notes.txt").write_text("not a manifest")
    code, out = run(str(tmp_path), "--format", "sarif")
    assert code == 1
    sarif = json.loads(out)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {str(tmp_path / "a.yaml")}


@pytest.mark.django_db
def test_input_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\n  broken: [\n")
    code, out = run(str(bad), "--format", "json")
    assert code == 2
    assert json.loads(out)["errors"][0]["code"] == "yaml-syntax"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["/no/such/file.yaml"],
        [str(PRIVILEGED), "--skip", "KB999"],
        [str(PRIVILEGED), "--param", "novalue"],
        [str(PRIVILEGED), "--param", "pod-cidr=nonsense"],
    ],
)
@pytest.mark.django_db
def test_usage_errors_exit_2(args):
    with pytest.raises(CommandError) as info:
        call_command("kbcheck", *args, stdout=io.StringIO())
    assert info.value.returncode == 2


def test_export_prometheus_prints_a_prometheus_rule():
    out = io.StringIO()
    call_command(
        "kbcheck", "--export", "prometheus", "--base-url", "https://kb.example", stdout=out
    )
    manifest = yaml.safe_load(out.getvalue())
    assert manifest["kind"] == "PrometheusRule"
    rules = manifest["spec"]["groups"][0]["rules"]
    assert rules[0]["annotations"]["runbook_url"] == "https://kb.example/rules/KBP001/"
