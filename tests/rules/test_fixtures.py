"""One parametrised test over every fixture: `<scenario>-FAILS.yaml` / `-PASSES.yaml`."""

from __future__ import annotations

import pytest

from incidents.rules.engine import check_text
from tests.rules.helpers import fixture_expectation, fixture_files


@pytest.mark.parametrize(
    "path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name.removesuffix('.yaml')}"
)
def test_fixture_yields_the_expected_findings(path):
    rule_id = path.parent.name
    expected, params = fixture_expectation(path)
    report = check_text(path.read_text(), params=params)
    assert report.errors == []
    found = [f for f in report.findings if f.rule.id == rule_id]
    detail = "\n".join(f"{f.path}: {f.message}" for f in found)
    assert len(found) == expected, f"{path.name}: expected {expected}, got:\n{detail}"
    for finding in found:
        assert finding.line is not None and finding.line >= 1
        assert finding.path
