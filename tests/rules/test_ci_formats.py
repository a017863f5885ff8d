"""The CI formats (SARIF, JUnit XML, GitLab Code Quality) validate against published schemas."""

from __future__ import annotations

import io
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from incidents.rules import cli
from incidents.rules.engine import check_inputs
from incidents.rules.formats import render
from tests.rules.helpers import fake_story_resolver

SCHEMAS = Path(__file__).parent / "schemas"
FIXTURES = Path(__file__).parent / "fixtures"
GOOD_APP = Path(__file__).parent / "apps" / "well-configured.yaml"
PRIVILEGED = FIXTURES / "KB021" / "scope-agent-FAILS.yaml"
ALL_FIXTURES = sorted(FIXTURES.rglob("*.yaml"))
BROKEN = ("broken.yaml", b"kind: Pod\n  broken: [\n")
ODD_NAMES = (
    "odd.json",
    json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": 'a\u0001<b>&"c"', "namespace": "x]]>y"},
            "spec": {"containers": [{"name": "c", "image": "nginx:latest"}]},
        }
    ).encode(),
)


def kbcheck(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    real = sys.stdout
    sys.stdout = out
    try:
        code = cli.main([*args, "--site-url", "https://kb.example"])
    finally:
        sys.stdout = real
    return code, out.getvalue()


def report_of(*inputs: tuple[str, bytes]):
    return check_inputs(list(inputs))


def corpus():
    """Every rule fixture (findings from every rule), an input error and hostile names."""
    return report_of(*[(str(p), p.read_bytes()) for p in ALL_FIXTURES], BROKEN, ODD_NAMES)


@pytest.fixture(scope="module")
def sarif_schema():
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


@pytest.fixture(scope="module")
def junit_schema():
    return xmlschema.XMLSchema(SCHEMAS / "junit-10.xsd")


@pytest.fixture(scope="module")
def codequality_schema():
    schema = json.loads((SCHEMAS / "gitlab-codequality.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def test_sarif_validates_against_the_oasis_schema(sarif_schema):
    for report in (corpus(), report_of((str(GOOD_APP), GOOD_APP.read_bytes()))):
        sarif = json.loads(render(report, "sarif", story_resolver=fake_story_resolver))
        errors = [e.message for e in sarif_schema.iter_errors(sarif)]
        assert errors == []
    code, out = kbcheck(str(PRIVILEGED), "--format", "sarif")
    assert code == 1
    assert list(sarif_schema.iter_errors(json.loads(out))) == []


def test_junit_validates_against_the_published_xsd(junit_schema):
    report = corpus()
    xml = render(report, "junit", story_resolver=fake_story_resolver, fail_on="warning")
    junit_schema.validate(xml)
    root = ET.fromstring(xml)
    cases = root.findall("testsuite/testcase")
    assert int(root.get("tests")) == len(cases)
    assert int(root.get("failures")) == len(root.findall("testsuite/testcase/failure")) > 30
    assert int(root.get("errors")) == len(root.findall("testsuite/testcase/error")) == 1
    assert {s.get("name") for s in root.findall("testsuite")} >= {"broken.yaml", "odd.json"}


def test_junit_fails_exactly_when_the_exit_code_does(junit_schema):
    for fail_on, expected_code in (("error", 1), ("warning", 1)):
        code, out = kbcheck(str(PRIVILEGED), "--format", "junit", "--fail-on", fail_on)
        junit_schema.validate(out)
        root = ET.fromstring(out)
        failures = root.findall(".//failure")
        assert code == expected_code
        assert {f.get("type") for f in failures} == (
            {"error"} if fail_on == "error" else {"error", "warning"}
        )
    # Below --fail-on: the finding passes, its text kept in system-out.
    code, out = kbcheck(str(PRIVILEGED), "--format", "junit", "--fail-on", "error")
    outputs = [o.text for o in ET.fromstring(out).findall(".//system-out")]
    assert any("KB002" in t or "memory" in t for t in outputs)


def test_junit_of_a_clean_run_has_one_passing_case(junit_schema):
    code, out = kbcheck(str(GOOD_APP), "--format", "junit")
    assert code == 0
    junit_schema.validate(out)
    root = ET.fromstring(out)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    assert root.find("testsuite/testcase").get("name") == "no findings"


def test_junit_links_rules_and_stories():
    _, out = kbcheck(str(PRIVILEGED), "--format", "junit")
    failure = next(
        f for f in ET.fromstring(out).iter("failure") if "privileged" in f.get("message")
    )
    assert "rule: Privileged container <https://kb.example/rules/KB021/>" in failure.text
    assert "<https://kb.example/stories/jwplayer-cryptominer/>" in failure.text


def test_codequality_validates_and_fingerprints_are_unique(codequality_schema):
    report = corpus()
    issues = json.loads(render(report, "codequality", story_resolver=fake_story_resolver))
    assert list(codequality_schema.iter_errors(issues)) == []
    assert len(issues) == len(report.findings) + len(report.errors)
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    assert {i["severity"] for i in issues} == {"critical", "major", "info", "blocker"}
    assert next(i for i in issues if i["check_name"] == "kbcheck/yaml-syntax")["location"] == {
        "path": "broken.yaml",
        "lines": {"begin": 2},
    }


def test_codequality_fingerprints_are_stable_across_runs_and_other_findings():
    one = json.loads(kbcheck(str(PRIVILEGED), "--format", "codequality")[1])
    both = json.loads(kbcheck(str(GOOD_APP), str(PRIVILEGED), "--format", "codequality")[1])
    assert {i["fingerprint"] for i in one} <= {i["fingerprint"] for i in both}


def test_codequality_of_a_clean_run_is_an_empty_array(codequality_schema):
    code, out = kbcheck(str(GOOD_APP), "--format", "codequality")
    assert (code, json.loads(out)) == (0, [])


def test_codequality_issue_carries_the_rule_and_story_links():
    issues = json.loads(kbcheck(str(PRIVILEGED), "--format", "codequality")[1])
    issue = next(i for i in issues if i["check_name"] == "KB021")
    assert issue["severity"] == "critical"
    assert issue["location"] == {"path": str(PRIVILEGED), "lines": {"begin": 18}}
    assert "https://kb.example/rules/KB021/" in issue["content"]["body"]
    assert "https://kb.example/stories/jwplayer-cryptominer/" in issue["content"]["body"]
