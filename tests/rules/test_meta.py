"""Meta-tests over the whole rule set: well formed, documented, with fixtures of both kinds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from incidents.rules.base import Rule, RuntimeRule, Severity
from incidents.rules.registry import REGISTRY, RETIRED_IDS, Registry, RegistryError, validate
from tests.rules.helpers import FIXTURES

RULES_DIR = Path(__file__).resolve().parents[2] / "incidents" / "rules"
MANIFEST_RULES = REGISTRY.manifest_rules()


def test_the_library_has_at_least_25_manifest_rules():
    assert len(MANIFEST_RULES) >= 25


@pytest.mark.parametrize("rule", REGISTRY.all(), ids=lambda r: r.id)
def test_every_rule_is_well_formed(rule):
    assert validate(rule) == []
    assert isinstance(rule.severity, Severity)
    assert rule.id not in RETIRED_IDS
    for url in rule.references:
        assert url.startswith("https://"), url


@pytest.mark.parametrize("rule", REGISTRY.all(), ids=lambda r: r.id)
def test_every_fix_example_is_a_snippet_of_valid_yaml(rule):
    if rule.fix_example.lstrip().startswith("#") and "gcloud" in rule.fix_example:
        return  # a shell command, documented as such
    list(yaml.safe_load_all(rule.fix_example))


@pytest.mark.parametrize("rule", MANIFEST_RULES, ids=lambda r: r.id)
def test_every_manifest_rule_has_failing_and_passing_fixtures(rule):
    names = [p.name for p in (FIXTURES / rule.id).glob("*.yaml")]
    assert any(n.endswith("-FAILS.yaml") for n in names), f"{rule.id}: no -FAILS fixture"
    assert any(n.endswith("-PASSES.yaml") for n in names), f"{rule.id}: no -PASSES fixture"


def test_every_fixture_belongs_to_a_rule_and_is_named_by_outcome():
    for directory in FIXTURES.iterdir():
        assert directory.name in REGISTRY, f"fixtures for unknown rule {directory.name}"
        for path in directory.iterdir():
            assert path.name.endswith(("-FAILS.yaml", "-PASSES.yaml")), path


def test_ids_and_slugs_are_unique_and_ids_follow_the_scheme():
    rules = REGISTRY.all()
    assert len({r.id for r in rules}) == len({r.slug for r in rules}) == len(rules)
    assert all(r.id.startswith("KBP") for r in rules if isinstance(r, RuntimeRule))
    assert all(not r.id.startswith("KBP") for r in rules if isinstance(r, Rule))


def test_the_registry_refuses_duplicates_retired_ids_and_malformed_rules():
    rule = REGISTRY.get("KB001")
    registry = Registry(retired={"KB999"})
    registry.register(rule)
    with pytest.raises(RegistryError, match="duplicate ID"):
        registry.register(rule)
    with pytest.raises(RegistryError, match="never reused"):
        Registry(retired={"KB001"}).register(rule)
    from dataclasses import replace

    with pytest.raises(RegistryError, match="links to no story and cites no public incident"):
        Registry().register(replace(rule, stories=()))
    with pytest.raises(RegistryError, match="not among the references"):
        Registry().register(replace(rule, stories=(), reports=("https://example.com/pm",)))
    backed_by_a_report = replace(
        rule,
        stories=(),
        references=("https://example.com/pm",),
        reports=("https://example.com/pm",),
    )
    assert Registry().register(backed_by_a_report) is backed_by_a_report
    with pytest.raises(RegistryError, match="does not match"):
        Registry().register(replace(rule, id="K1"))


def test_lookup_by_id_or_slug_and_filter():
    assert REGISTRY.get_by_slug("cpu-limits-throttle").id == "KB001"
    assert REGISTRY.lookup("kb001") is REGISTRY.lookup("cpu-limits-throttle")
    assert {r.id for r in REGISTRY.filter(story="jwplayer-cryptominer")} >= {"KB021", "KB024"}
    assert all("CronJob" in r.kinds for r in REGISTRY.filter(kind="CronJob"))
    with pytest.raises(KeyError):
        REGISTRY.get("KB000")


def test_rule_modules_stay_small_and_the_package_has_no_django_imports():
    for path in RULES_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] in ("django", "rest_framework") for n in names), path
    for path in (RULES_DIR / "builtin").glob("*.py"):
        if path.name != "__init__.py":
            code = path.read_text().split("\nRULE = ")[0]  # the check, without its metadata
            assert len(code.splitlines()) <= 80, f"{path.name}: the check is over 80 lines"


def test_every_builtin_module_is_in_the_explicit_list():
    from incidents.rules import builtin

    listed = {m.__name__.rsplit(".", 1)[1] for m in builtin.MODULES}
    on_disk = {p.stem for p in (RULES_DIR / "builtin").glob("*.py") if p.stem != "__init__"}
    assert listed == on_disk
