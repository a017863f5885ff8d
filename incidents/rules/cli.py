"""kbcheck: check Kubernetes manifests against the rule library; findings link to the stories.

    kbcheck deploy/ app.yaml                       # files, directories (*.yaml, *.yml, *.json)
    helm template ./chart | kbcheck - --format sarif
    kubectl get nodes -o json | kbcheck - --param pod-cidr=10.0.0.0/16
    kbcheck --export prometheus                    # the runtime rules as a PrometheusRule
    kbcheck --export vap                           # rules as ValidatingAdmissionPolicies
    kbcheck --cluster-snapshot cluster-snapshot/   # which stories could happen on a cluster

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error.

Plain Python: no Django settings, no database. Rules come from the registry, story links from
the story files shipped in the package (`incidents.rules.stories`). `manage.py kbcheck` is a
thin wrapper around `add_arguments` and `run`, so both take the same flags and print the same.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from incidents.rules.base import Severity
from incidents.rules.engine import DEFAULT_NAMESPACE, DEFAULT_SCOPE, SCOPES
from incidents.rules.findings import EXIT_ERROR
from incidents.rules.formats import FORMATS
from incidents.rules.stories import DEFAULT_SITE_URL

SUFFIXES = (".yaml", ".yml", ".json")
EXPORTS = ("prometheus", "vap")
EXPORT_AS = ("prometheusrule", "rules-file")
PROG = "kbcheck"


class UsageError(Exception):
    """A command-line mistake: printed as `kbcheck: error: ...`, exit code 2."""


def default_site_url() -> str:
    """SITE_URL from the environment, as the site reads it, else the site's default."""
    return (os.environ.get("SITE_URL") or DEFAULT_SITE_URL).rstrip("/")


def add_arguments(parser: argparse.ArgumentParser, *, site_url: str | None = None) -> None:
    """The flags of kbcheck, on the standalone parser and on the management command's."""
    parser.add_argument("paths", nargs="*", help="files, directories, or - for stdin")
    parser.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    parser.add_argument(
        "--fail-on",
        choices=[s.label for s in Severity],
        default="warning",
        help="exit 1 when a finding is at or above this severity (default: warning)",
    )
    parser.add_argument(
        "--skip", action="append", default=[], help="rule IDs or slugs, comma-separated"
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="rule parameter"
    )
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default=DEFAULT_SCOPE,
        help="which inputs cross-object rules relate (a Service to its Deployment): the files "
        f"of one folder (dir, the default), each file alone, or all inputs (default: "
        f"{DEFAULT_SCOPE})",
    )
    parser.add_argument(
        "--namespace",
        "-n",
        default=DEFAULT_NAMESPACE,
        help="namespace of objects that name none, as `kubectl apply -n` would put them "
        f"(default: {DEFAULT_NAMESPACE}); cross-object rules relate one namespace only",
    )
    parser.add_argument(
        "--fix-diff",
        action="store_true",
        help="print a unified diff of the mechanical fixes instead of the report (apply it "
        "with `git apply` or `patch -p1` from where the paths were given)",
    )
    parser.add_argument(
        "--export",
        choices=EXPORTS,
        help="print the runtime rules as Prometheus alerts (prometheus), or the single-object "
        "rules as ValidatingAdmissionPolicy + binding objects (vap), instead of checking",
    )
    parser.add_argument(
        "--cluster-snapshot",
        metavar="DIR",
        help="instead of checking manifests: the exposure report for the snapshot that "
        "deploy/snapshot.sh collected in DIR (exit 1 when a story could happen there)",
    )
    parser.add_argument(
        "--as",
        dest="export_as",
        choices=EXPORT_AS,
        default="prometheusrule",
        help="with --export prometheus: a PrometheusRule manifest (default) or a plain "
        "Prometheus rule file (groups:)",
    )
    parser.add_argument(
        "--site-url",
        "--base-url",
        dest="site_url",
        default=site_url,
        help="public site the story and rule links point to "
        f"(default: $SITE_URL, else {DEFAULT_SITE_URL})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check Kubernetes manifests (files, directories or - for stdin) against "
        "the rules; every finding links to the failure stories that show why it matters.",
        epilog="Exit codes: 0 no finding at or above --fail-on, 1 findings, "
        "2 usage or input error.",
    )
    add_arguments(parser)
    return parser


def run(options: Mapping[str, Any], *, stdin: IO[bytes], write: Callable[[str], Any]) -> int:
    """Do what the parsed options ask; `write` receives the output. Returns the exit code.

    Raises UsageError for command-line mistakes (the callers print it and exit 2).
    """
    site_url = options.get("site_url")
    site_url = (default_site_url() if site_url is None else site_url).rstrip("/")
    if options.get("export"):
        write(_export(options, site_url))
        return 0
    params = _params(options.get("param") or [])
    if options.get("cluster_snapshot"):
        from incidents.exposure.cli import SnapshotUsageError, run_cluster_snapshot

        try:
            return run_cluster_snapshot(
                {**options, "params": params}, site_url=site_url, write=write
            )
        except SnapshotUsageError as exc:
            raise UsageError(str(exc)) from None
    if not options.get("paths"):
        raise UsageError("give at least one PATH, or - for stdin")
    inputs = read_inputs(options["paths"], stdin)

    from incidents.rules.engine import UsageError as EngineUsageError
    from incidents.rules.engine import check_inputs
    from incidents.rules.formats import render
    from incidents.rules.stories import StoryFiles

    try:
        report = check_inputs(
            inputs,
            skip=options.get("skip") or [],
            params=params,
            scope=options.get("scope") or DEFAULT_SCOPE,
            namespace=options.get("namespace") or DEFAULT_NAMESPACE,
        )
    except EngineUsageError as exc:
        raise UsageError(str(exc)) from None
    if options.get("fix_diff"):
        from incidents.rules.fixdiff import unified_diff

        write(unified_diff(inputs, report))
        return report.exit_code(options["fail_on"])
    stories = StoryFiles(site_url)
    fmt = options["format"]
    extra = {"fail_on": options["fail_on"]} if fmt == "junit" else {}
    write(render(report, fmt, story_resolver=stories, rule_url=stories.rule_url, **extra))
    return report.exit_code(options["fail_on"])


def _export(options: Mapping[str, Any], site_url: str) -> str:
    if options["export"] == "vap":
        from incidents.rules.stories import StoryFiles
        from incidents.rules.vap import export_vap

        stories = StoryFiles(site_url)
        return export_vap(stories=stories, rule_url=stories.rule_url)

    from incidents.rules.runtime import export_prometheus_rule, export_rule_file

    if options.get("export_as") == "rules-file":
        return export_rule_file(base_url=site_url or None)
    return export_prometheus_rule(base_url=site_url or None)


def _params(items: Sequence[str]) -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {item!r}: expected KEY=VALUE")
        params[key.strip()] = value.strip()
    return params


def read_inputs(paths: Sequence[str], stdin: IO[bytes]) -> list[tuple[str, bytes]]:
    """(name, bytes) for each file: `-` is stdin, directories are walked for SUFFIXES.

    Each input is read up to one byte past the size limit, so an oversized input is refused
    by the parser without reading all of it.
    """
    from incidents.rules.parsing import DEFAULT_LIMITS

    limit = DEFAULT_LIMITS.max_bytes + 1
    inputs: list[tuple[str, bytes]] = []
    for name in paths:
        if name == "-":
            inputs.append(("stdin", stdin.read(limit)))
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not files:
                raise UsageError(f"{name}: no {', '.join(SUFFIXES)} files")
        elif path.is_file():
            files = [path]
        else:
            raise UsageError(f"{name}: no such file or directory")
        for file in files:
            try:
                with file.open("rb") as handle:
                    inputs.append((str(file), handle.read(limit)))
            except OSError as exc:
                raise UsageError(f"{file}: {exc.strerror or exc}") from None
    return inputs


def main(argv: Sequence[str] | None = None) -> int:
    """The `kbcheck` console script."""
    parser = build_parser()
    options = vars(parser.parse_args(argv))
    try:
        code = run(options, stdin=sys.stdin.buffer, write=sys.stdout.write)
        sys.stdout.flush()
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`kbcheck ... | head`): stop quietly, as other filters do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
