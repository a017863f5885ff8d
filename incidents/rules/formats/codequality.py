"""GitLab Code Quality: the JSON array of issues GitLab reads from `artifacts:reports:codequality`.

GitLab documents the format as a subset of the Code Climate analyzer spec: every issue has a
`description`, a `check_name`, a `fingerprint` (unique and stable, so merge requests show what
is new and what was fixed), a `severity` (info, minor, major, critical, blocker) and a
`location` with the file `path` and `lines.begin`. Findings map by severity: error -> critical,
warning -> major, info -> info; input errors (the run's exit code 2) -> blocker.
`content.body` carries the Markdown details (path, rule and story links) that Code Climate
readers show; GitLab ignores it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from incidents.rules.base import Severity
from incidents.rules.findings import Finding, Report

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def _ref(finding: Finding) -> str:
    o = finding.object
    return f"{o['kind']}/{o['namespace'] or '-'}/{o['name']}"


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def finding_issue(finding: Finding, *, stories, rule_url, uri: str = "stdin") -> dict[str, Any]:
    rule = finding.rule
    ref = _ref(finding)
    path = finding.file or uri
    body = [f"**{rule.id} {rule.slug}**: {finding.message}"]
    if finding.path:
        body.append(f"Field: `{finding.path}`")
    body.append(f"Rule: [{rule.title}]({rule_url(rule.id)})")
    linked = [f"- [{s['title']}]({s.get('url') or ''})" for s in stories(rule.stories)]
    if linked:
        body.append("Stories:\n" + "\n".join(linked))
    return {
        "type": "issue",
        "check_name": rule.id,
        "description": f"{rule.id} {rule.slug}: {ref}: {finding.message}",
        "content": {"body": "\n\n".join(body)},
        "categories": ["Bug Risk"],
        "severity": SEVERITY[finding.severity],
        "fingerprint": fingerprint(path, rule.id, ref, finding.path),
        "location": {"path": path, "lines": {"begin": finding.line or 1}},
    }


def iter_codequality(report: Report, *, stories, rule_url, uri: str = "stdin") -> Iterator[str]:
    """The report as a JSON array, one issue per line (GitLab reads it whole)."""
    yield "["
    first = True
    seen: set[str] = set()
    for finding in report.findings:
        issue = finding_issue(finding, stories=stories, rule_url=rule_url, uri=uri)
        if issue["fingerprint"] in seen:  # two findings on one field: tell them apart
            issue["fingerprint"] = fingerprint(issue["fingerprint"], finding.message)
        seen.add(issue["fingerprint"])
        yield ("\n" if first else ",\n") + json.dumps(issue, ensure_ascii=False)
        first = False
    for error in report.errors:
        path = error.file or uri
        issue = {
            "type": "issue",
            "check_name": f"kbcheck/{error.code}",
            "description": f"kbcheck could not check this input: {error.message}",
            "categories": ["Bug Risk"],
            "severity": "blocker",
            "fingerprint": fingerprint(path, error.code, error.document, error.message),
            "location": {"path": path, "lines": {"begin": error.line or 1}},
        }
        yield ("\n" if first else ",\n") + json.dumps(issue, ensure_ascii=False)
        first = False
    yield "\n]\n"


def render_codequality(report: Report, *, stories, rule_url, **options) -> str:
    return "".join(iter_codequality(report, stories=stories, rule_url=rule_url, **options))
