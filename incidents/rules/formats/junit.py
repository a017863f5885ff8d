"""JUnit XML for the CI systems that show test reports (GitLab, Jenkins, Azure Pipelines...).

One `<testsuite>` per input file; in it one `<testcase>` per rule and object with findings,
named `KB021 privileged-container: DaemonSet weave/scope-agent`. Findings at or above
`--fail-on` are `<failure>`s (the ones that make kbcheck exit 1); those below pass, their text in
`<system-out>`, so the report fails exactly when the exit code does. Input errors are `<error>`s.
A file without findings or errors gets one passing `no findings` test case, so a clean run shows
as passed tests rather than as no tests at all. The shape follows the JUnit XSD that Jenkins'
xUnit plugin publishes (tests/rules/schemas/junit-10.xsd validates it in the tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

from incidents.rules.base import Severity
from incidents.rules.findings import Finding, Report

# Characters XML 1.0 cannot carry at all (JSON input may hold them in names and values).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def _attr(value: object) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", str(value)))


def _object(finding: Finding) -> str:
    o = finding.object
    return f"{o['kind']} {o['namespace'] + '/' if o['namespace'] else ''}{o['name'] or '<unnamed>'}"


def _details(findings: list[Finding], *, stories, rule_url) -> str:
    rule = findings[0].rule
    lines = []
    for f in findings:
        lines.append(f"{f.severity.label}: {f.message}")
        if f.path:
            lines.append(f"  at {f.path}" + (f" (line {f.line})" if f.line else ""))
    lines.append(f"rule: {rule.title} <{rule_url(rule.id)}>")
    lines.extend(f"story: {s['title']} <{s.get('url') or ''}>" for s in stories(rule.stories))
    return "\n".join(lines)


def iter_junit(
    report: Report, *, stories, rule_url, uri: str = "stdin", fail_on: str = "warning"
) -> Iterator[str]:
    """The report as JUnit XML, in chunks."""
    threshold = Severity.parse(fail_on)
    files: dict[str, dict[tuple, list[Finding]]] = {}
    for finding in report.findings:
        o = finding.object
        key = (finding.document, o["kind"], o["namespace"], o["name"], finding.rule.id)
        files.setdefault(finding.file or uri, {}).setdefault(key, []).append(finding)
    errors: dict[str, list] = {}
    for error in report.errors:
        errors.setdefault(error.file or uri, []).append(error)
    names = list(dict.fromkeys([*files, *errors])) or [uri]
    summary = report.summary
    failing = sum(
        1
        for cases in files.values()
        for findings in cases.values()
        if max(f.severity for f in findings) >= threshold
    )
    total = sum(len(files.get(n, {})) + len(errors.get(n, [])) or 1 for n in names)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (
        f'<testsuites name="kbcheck" tests="{total}" failures="{failing}" '
        f'errors="{summary["errors"]}">\n'
    )
    for name in names:
        cases = files.get(name, {})
        file_errors = errors.get(name, [])
        suite_failures = sum(1 for c in cases.values() if max(f.severity for f in c) >= threshold)
        yield (
            f'  <testsuite name={_attr(name)} tests="{len(cases) + len(file_errors) or 1}" '
            f'failures="{suite_failures}" errors="{len(file_errors)}" file={_attr(name)}>\n'
        )
        if not cases and not file_errors:
            yield f'    <testcase name="no findings" classname={_attr(name)}/>\n'
        for findings in cases.values():
            first = findings[0]
            rule = first.rule
            title = f"{rule.id} {rule.slug}: {_object(first)}"
            details = _text(_details(findings, stories=stories, rule_url=rule_url))
            yield f"    <testcase name={_attr(title)} classname={_attr(name)}>\n"
            worst = max(f.severity for f in findings)
            if worst >= threshold:
                yield (
                    f"      <failure type={_attr(worst.label)} message={_attr(first.message)}>"
                    f"{details}</failure>\n"
                )
            else:
                yield f"      <system-out>{details}</system-out>\n"
            yield "    </testcase>\n"
        for error in file_errors:
            where = f"document {error.document}" if error.document is not None else "input"
            line = f", line {error.line}" if error.line else ""
            yield (
                f"    <testcase name={_attr(f'input error: {where}{line}')} "
                f"classname={_attr(name)}>\n"
                f"      <error type={_attr(error.code)} message={_attr(error.message)}>"
                f"{_text(error.message)}</error>\n"
                "    </testcase>\n"
            )
        yield "  </testsuite>\n"
    yield "</testsuites>\n"


def render_junit(report: Report, *, stories, rule_url, **options) -> str:
    return "".join(iter_junit(report, stories=stories, rule_url=rule_url, **options))
