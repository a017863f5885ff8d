"""Run the manifest rules over the real-world corpus and measure their precision.

    python bench/realworld.py [--corpus DIR] [--labels FILE] [--scope dir] [--namespace default]
                              [--list RULE_ID] [--unlabelled]

The corpus (`../shared/realworld-manifests/` by default, see its README) is public manifests
nobody on this project wrote. The script checks every `.yaml`/`.yml`/`.json` file of it as one
run (the way `kbcheck DIR` does) and prints:
- files, documents checked and skipped, objects, input errors by code, wall and CPU time;
- findings per rule;
- a precision table from the hand-labelled sample in `tests/rules/realworld_labels.yaml`:
  per rule, how many labelled findings are still reported and how many of those are true,
  false or debatable. A label whose finding is no longer reported is counted as "gone" (a
  fixed false positive, or a lost true positive: the table shows which).

`--list KB003` prints every finding of a rule (file, object, path, message) to help labelling;
`--unlabelled` lists the findings that have no label yet.

A label is keyed by file (relative to the corpus), rule, object (`Kind namespace/name`) and
path, so it survives unrelated changes in the rules.
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from incidents.rules.engine import check_inputs  # noqa: E402

SUFFIXES = (".yaml", ".yml", ".json")
LABELS = ROOT / "tests" / "rules" / "realworld_labels.yaml"
VERDICTS = ("true", "false", "debatable")


def default_corpus() -> Path:
    """`../shared/realworld-manifests` from the repository, or from the folder holding it."""
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "realworld-manifests"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "realworld-manifests"


def read_corpus(corpus: Path) -> list[tuple[str, bytes]]:
    files = sorted(p for p in corpus.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    return [(str(p.relative_to(corpus)), p.read_bytes()) for p in files]


def finding_key(finding) -> tuple[str, str, str, str]:
    o = finding.object
    ns = f"{o['namespace']}/" if o["namespace"] else ""
    return (finding.file or "", finding.rule.id, f"{o['kind']} {ns}{o['name']}", finding.path)


def label_key(label: dict) -> tuple[str, str, str, str]:
    return (label["file"], label["rule"], label["object"], label.get("path", ""))


def load_labels(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text()) or {}
    labels = data.get("labels", [])
    for label in labels:
        if label.get("verdict") not in VERDICTS:
            raise SystemExit(f"{path}: bad verdict in {label!r} (choose from {VERDICTS})")
        if not label.get("reason"):
            raise SystemExit(f"{path}: label without a reason: {label!r}")
    return labels


def run(inputs, options: dict):
    started = time.perf_counter()
    cpu = time.process_time()
    report = check_inputs(inputs, **options)
    return report, time.perf_counter() - started, time.process_time() - cpu


def precision_table(report, labels: list[dict]) -> tuple[list[str], dict]:
    current = {finding_key(f) for f in report.findings}
    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for label in labels:
        counts = rows[label["rule"]]
        if label_key(label) in current:
            counts[label["verdict"]] += 1
        else:
            counts[f"gone-{label['verdict']}"] += 1
    total: collections.Counter = collections.Counter()
    lines = [
        f"{'rule':<7} {'labelled':>8} {'true':>5} {'false':>5} {'debat.':>6} "
        f"{'precision':>9}   gone (was true/false/debatable)"
    ]
    for rule_id in sorted(rows):
        counts = rows[rule_id]
        total.update(counts)
        lines.append(_row(rule_id, counts))
    lines.append(_row("all", total))
    return lines, total


def _row(name: str, c: collections.Counter) -> str:
    live = c["true"] + c["false"] + c["debatable"]
    precision = f"{100 * c['true'] / live:.1f}%" if live else "-"
    gone = f"{c['gone-true']}/{c['gone-false']}/{c['gone-debatable']}"
    return (
        f"{name:<7} {live:>8} {c['true']:>5} {c['false']:>5} {c['debatable']:>6} "
        f"{precision:>9}   {gone}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--scope", default=None, help="file, dir or all (engine default)")
    parser.add_argument("--namespace", default=None, help="namespace of unnamespaced objects")
    parser.add_argument("--list", metavar="RULE_ID", action="append", default=[])
    parser.add_argument("--unlabelled", action="store_true")
    parser.add_argument("--errors", action="store_true", help="print every input error")
    args = parser.parse_args(argv)

    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    inputs = read_corpus(args.corpus)
    options = {}
    if args.scope:
        options["scope"] = args.scope
    if args.namespace:
        options["namespace"] = args.namespace
    report, wall, cpu = run(inputs, options)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = report.summary
    print(f"corpus     {args.corpus}")
    print(
        f"files      {len(inputs)}   documents {summary['checked']} checked, "
        f"{summary['skipped']} skipped   objects {summary['objects']}"
    )
    print(f"time       {wall:.3f} s wall, {cpu:.3f} s CPU   peak RSS {peak:.0f} MiB (process)")
    by_code = collections.Counter(e.code for e in report.errors)
    print(
        f"errors     {len(report.errors)} input error(s)"
        + (": " + ", ".join(f"{k} {v}" for k, v in sorted(by_code.items())) if by_code else "")
    )
    print(f"warnings   {len(report.warnings)} input warning(s) (e.g. a key repeated, same value)")
    if args.errors:
        for e in report.errors + report.warnings:
            print(f"  {e.file}:{e.line} (document {e.document}) {e.message} [{e.code}]")
    print(f"findings   {len(report.findings)}   (suppressed {report.suppressed})")
    per_rule = collections.Counter((f.rule.id, f.rule.slug) for f in report.findings)
    for (rule_id, slug), count in sorted(per_rule.items()):
        print(f"  {rule_id} {slug:<36} {count:>5}")

    labels = load_labels(args.labels)
    if labels:
        lines, _total = precision_table(report, labels)
        print(f"\nprecision on the hand-labelled sample ({args.labels.name}, {len(labels)} labels)")
        for line in lines:
            print("  " + line)

    labelled = {label_key(label) for label in labels}
    for finding in report.findings:
        key = finding_key(finding)
        if finding.rule.id in args.list or (args.unlabelled and key not in labelled):
            print(f"\n{key[1]} {key[0]}:{finding.line} {key[2]} at {key[3]}\n  {finding.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
