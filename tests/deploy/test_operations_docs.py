"""The README's Operations section documents every environment variable the app reads."""

from __future__ import annotations

from tests.deploy.helpers import ROOT, env_file, gunicorn_variables, settings_variables


def operations_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Operations")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_environment_variable_is_in_the_configuration_reference():
    section = operations_section()
    missing = sorted(
        name for name in settings_variables() | gunicorn_variables() if f"`{name}`" not in section
    )
    assert missing == [], f"document these in README 'Operations': {missing}"


def test_the_documented_production_environment_uses_only_real_variables():
    known = settings_variables() | gunicorn_variables()
    known |= {f"{name}_FILE" for name in known}
    assert set(env_file(ROOT / "deploy" / "production.env")) <= known
