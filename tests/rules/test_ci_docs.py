"""docs/ci.md and .pre-commit-hooks.yaml: the documented jobs run kbcheck as it is and upload
what it writes in the format the job's uploader reads."""

from __future__ import annotations

import io
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import xmlschema
import yaml
from pre_commit.clientlib import load_manifest

from incidents.rules import cli

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "schemas"
DOC = (ROOT / "docs" / "ci.md").read_text()
BLOCKS = [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```", DOC, re.S | re.M)]


def block_with(key: str) -> dict:
    found = [b for b in BLOCKS if isinstance(b, dict) and key in b]
    assert len(found) == 1, key
    return found[0]


def kbcheck_commands(lines: list[str]) -> list[tuple[list[str], str | None]]:
    """(kbcheck arguments, file its output is redirected to) for each kbcheck command line."""
    commands = []
    for line in lines:
        if not line.startswith("kbcheck "):
            continue
        tokens = shlex.split(line.split("||")[0])
        target = tokens[tokens.index(">") + 1] if ">" in tokens else None
        commands.append((tokens[1 : tokens.index(">")] if target else tokens[1:], target))
    return commands


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    real = sys.stdout
    sys.stdout = out
    try:
        code = cli.main(args)
    finally:
        sys.stdout = real
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def at_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the jobs check deploy/k8s/, which this repository has


def validate(fmt: str, text: str) -> None:
    if fmt == "sarif":
        schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
        assert list(jsonschema.Draft4Validator(schema).iter_errors(json.loads(text))) == []
    elif fmt == "codequality":
        schema = json.loads((SCHEMAS / "gitlab-codequality.schema.json").read_text())
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(json.loads(text))) == []
    elif fmt == "junit":
        xmlschema.XMLSchema(SCHEMAS / "junit-10.xsd").validate(text)
    else:
        raise AssertionError(fmt)


def test_the_hook_manifest_is_valid_and_runs_the_console_script():
    hooks = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert [h["id"] for h in hooks] == ["kbcheck"]
    hook = hooks[0]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"] in scripts
    assert hook["language"] == "python"
    assert set(hook["types_or"]) == {"yaml", "json"}
    assert hook["require_serial"] is True  # cross-object rules see every file at once


def test_the_documented_pre_commit_config_uses_the_hook_with_valid_flags():
    config = block_with("repos")
    hook = config["repos"][0]["hooks"][0]
    assert hook["id"] == "kbcheck"
    options = vars(cli.build_parser().parse_args([*hook["args"], "deploy/k8s/namespace.yaml"]))
    assert options["fail_on"] == "error"


def test_the_github_job_uploads_the_sarif_kbcheck_writes():
    workflow = block_with("jobs")
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["kbcheck"]["steps"]
    runs = [line for s in steps if "run" in s for line in s["run"].splitlines()]
    ((args, target),) = kbcheck_commands(runs)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-"))
    assert upload["uses"].split("@")[0] == "github/codeql-action/upload-sarif"
    assert upload["with"]["sarif_file"] == target
    assert "failure()" in upload["if"]  # findings are uploaded although the check step failed
    code, out = run(args)
    assert code in (0, 1)
    assert args[args.index("--format") + 1] == "sarif"
    validate("sarif", out)


def test_the_gitlab_job_writes_the_reports_it_declares():
    job = block_with("kbcheck")["kbcheck"]
    assert job["artifacts"]["when"] == "always"
    reports = job["artifacts"]["reports"]
    commands = kbcheck_commands(job["script"])
    written = {args[args.index("--format") + 1]: target for args, target in commands}
    assert written == {"codequality": reports["codequality"], "junit": reports["junit"]}
    for args, _ in commands:
        code, out = run(args)
        assert code in (0, 1)
        validate(args[args.index("--format") + 1], out)
