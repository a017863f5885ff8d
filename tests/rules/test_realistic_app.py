"""A realistic, well-configured application yields nothing; breaking it yields the right rules."""

from __future__ import annotations

from pathlib import Path

from incidents.rules.engine import check_text

APP = (Path(__file__).parent / "apps" / "well-configured.yaml").read_text()


def test_a_well_configured_app_yields_no_finding():
    report = check_text(APP)
    assert report.errors == []
    assert [(f.rule.id, f.object["kind"], f.path) for f in report.findings] == []
    assert report.objects == 7
    assert report.exit_code("info") == 0


def test_the_same_app_without_its_pdb_and_prestop_is_flagged():
    broken = APP.replace("kind: PodDisruptionBudget", "kind: Unknown").replace(
        "        lifecycle:\n          preStop:\n            exec:\n"
        '              command: ["sleep", "15"]\n',
        "",
    )
    ids = sorted({f.rule.id for f in check_text(broken).findings})
    assert ids == ["KB007", "KB010"]
