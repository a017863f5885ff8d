"""The `kbcheck` console script: no Django, story links from the shipped files, as manage.py."""

from __future__ import annotations

import fnmatch
import io
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from incidents.rules import cli
from incidents.rules.registry import REGISTRY
from incidents.rules.stories import DEFAULT_SITE_URL, STORIES_DIR, StoryFiles, rule_path, story_path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
GOOD_APP = Path(__file__).parent / "apps" / "well-configured.yaml"
PRIVILEGED = FIXTURES / "KB021" / "scope-agent-FAILS.yaml"
NODES = json.dumps(
    {
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
).encode()


def bare_env(**extra: str) -> dict[str, str]:
    """A shell that set nothing: no Django settings module, no SECRET_KEY, no DEBUG."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def run_process(*args: str, stdin: bytes = b"", cwd: Path = ROOT, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "incidents.rules.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=bare_env(**env),
        timeout=60,
    )


def run_cli(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    real = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    sys.stdout, sys.stderr = out, err
    try:
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    finally:
        sys.stdin, sys.stdout, sys.stderr = real
    return code, out.getvalue(), err.getvalue()


def run_command(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out = io.StringIO()
    real = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        call_command("kbcheck", *args, stdout=out)
        code, err = 0, ""
    except SystemExit as exc:
        code, err = exc.code, ""
    except CommandError as exc:
        code, err = exc.returncode, str(exc)
    finally:
        sys.stdin = real
    return code, out.getvalue(), err


def test_it_runs_in_a_shell_that_set_nothing_and_links_the_stories(tmp_path):
    result = run_process(str(PRIVILEGED), "--site-url", "https://kb.example", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    out = result.stdout.decode()
    assert "error    KB021 privileged-container" in out
    assert (
        "story: How A Cryptocurrency Miner Made Its Way onto Our Internal Kubernetes Clusters "
        "(JW Player, 2019) <https://kb.example/stories/jwplayer-cryptominer/>"
    ) in out
    assert "rule: Privileged container <https://kb.example/rules/KB021/>" in out
    assert result.stderr == b""


def test_it_never_starts_django(tmp_path):
    code = (
        "import sys, runpy; sys.argv = ['kbcheck', '--format', 'sarif', sys.argv[1]]\n"
        "try:\n    runpy.run_module('incidents.rules.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')),"
        " file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(PRIVILEGED)],
        capture_output=True,
        cwd=ROOT,
        env=bare_env(),
        timeout=60,
    )
    assert result.stderr.decode().strip() == "[]"
    assert json.loads(result.stdout)["runs"][0]["results"]


def test_the_default_site_url_is_the_sites_default_unless_site_url_is_set():
    result = run_process(str(PRIVILEGED), "--format", "json")
    story = json.loads(result.stdout)["findings"][0]["stories"][0]
    assert story["url"].startswith(f"{DEFAULT_SITE_URL}/stories/")
    result = run_process(str(PRIVILEGED), "--format", "json", SITE_URL="https://kb.example/")
    story = json.loads(result.stdout)["findings"][0]["stories"][0]
    assert story["url"].startswith("https://kb.example/stories/")


def test_story_links_carry_title_organisation_year_and_source():
    story = StoryFiles("https://kb.example")("jwplayer-cryptominer")
    assert story == {
        "slug": "jwplayer-cryptominer",
        "title": "How A Cryptocurrency Miner Made Its Way onto Our Internal Kubernetes Clusters",
        "organisation": "JW Player",
        "year": 2019,
        "source_url": story["source_url"],
        "url": "https://kb.example/stories/jwplayer-cryptominer/",
    }
    assert story["source_url"].startswith("https://")


def test_unknown_unpublished_or_odd_slugs_link_to_nothing(tmp_path):
    (tmp_path / "draft-story.md").write_text("---\nslug: draft-story\nstatus: draft\n---\nbody\n")
    (tmp_path / "no-front-matter.md").write_text("just text\n")
    stories = StoryFiles("https://kb.example", directory=tmp_path)
    for slug in ("draft-story", "no-front-matter", "missing", "../etc/passwd", ""):
        assert stories(slug) is None


def test_every_story_a_rule_names_resolves_from_the_files():
    stories = StoryFiles()
    for rule in REGISTRY.all():
        for slug in rule.stories:
            assert stories(slug) is not None, (rule.id, slug)


def test_link_paths_are_the_sites_url_patterns():
    assert story_path("some-story") == reverse("incidents:story", args=["some-story"])
    assert rule_path("KB001") == reverse("incidents:rule", args=["KB001"])


CASES = [
    [str(GOOD_APP)],
    [str(PRIVILEGED)],
    [str(PRIVILEGED), "--format", "json"],
    [str(PRIVILEGED), "--format", "sarif", "--site-url", ""],
    [str(PRIVILEGED), "--fail-on", "error", "--skip", "KB021,KB023"],
    [str(PRIVILEGED), "--fail-on", "error", "--skip", "KB021", "--skip", "hostpath-sensitive"],
    [str(FIXTURES / "KB021"), str(GOOD_APP), "--format", "json"],
    ["-", "--format", "json", "--param", "pod-cidr=10.8.0.0/22"],
    [str(FIXTURES / "KB027"), "--scope", "all", "-n", "shop", "--format", "json"],
    [str(PRIVILEGED), "--format", "junit"],
    [str(PRIVILEGED), "--format", "codequality"],
    ["--export", "vap"],
    ["--export", "prometheus"],
    ["--export", "prometheus", "--as", "rules-file"],
    [],
    ["/no/such/file.yaml"],
    [str(PRIVILEGED), "--skip", "KB999"],
    [str(PRIVILEGED), "--param", "novalue"],
    [str(PRIVILEGED), "--param", "pod-cidr=nonsense"],
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a)[-60:] or "no-args")
def test_manage_py_kbcheck_prints_the_same_and_exits_the_same(args, settings):
    settings.SITE_URL = "https://kb.example"
    stdin = NODES if "-" in args else b""
    args = [*args, "--site-url", "https://kb.example"] if "--site-url" not in args else args
    code, out, err = run_cli(*args, stdin=stdin)
    django_code, django_out, django_err = run_command(*args, stdin=stdin)
    assert (django_code, django_out) == (code, out)
    if code == 2:
        assert err == f"kbcheck: error: {django_err}\n"


def test_manage_py_kbcheck_defaults_to_the_site_url_setting(settings):
    settings.SITE_URL = "https://kb.example"
    _, out, _ = run_command(str(PRIVILEGED), "--format", "json")
    assert json.loads(out)["findings"][0]["rule"]["url"] == "https://kb.example/rules/KB002/"


def test_usage_errors_go_to_stderr_with_exit_2():
    result = run_process("/no/such/file.yaml")
    assert result.returncode == 2
    assert result.stdout == b""
    assert (
        result.stderr.decode() == "kbcheck: error: /no/such/file.yaml: no such file or directory\n"
    )
    assert run_process("--format", "nope", str(PRIVILEGED)).returncode == 2


def test_export_rules_file_is_a_plain_prometheus_groups_file():
    code, out, _ = run_cli("--export", "prometheus", "--as", "rules-file", "--site-url", "")
    assert code == 0
    data = yaml.safe_load(out)
    assert list(data) == ["groups"]
    assert data["groups"][0]["rules"][0]["alert"]


def test_the_console_script_is_declared_and_its_files_are_shipped():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["kbcheck"] == "incidents.rules.cli:main"
    setuptools = project["tool"]["setuptools"]
    assert any(
        fnmatch.fnmatch("incidents.rules", p) for p in setuptools["packages"]["find"]["include"]
    )
    patterns = setuptools["package-data"]["incidents"]
    package = ROOT / "incidents"
    read_at_run_time = [*STORIES_DIR.glob("*.md"), package / "data" / "story_rules.yaml"]
    assert len(read_at_run_time) > 50
    for path in read_at_run_time:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
