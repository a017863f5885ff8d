"""The JSON shape shared by `kbcheck --format json` and the API.

{"findings": [{"rule": {"id", "slug", "title", "severity", "url"},
               "object": {"apiVersion", "kind", "namespace", "name"},
               "path", "message", "document", "line",
               "fix": {"summary": one-line remedy, "patch": JSON Patch (RFC 6902) or null},
               "stories": [{"slug", "title", "organisation", "year", "source_url", "url"}]}],
 "errors": [{"document", "line", "message", "code"}],
 "warnings": [{"document", "line", "message", "code"}],   # e.g. a key repeated, same value
 "summary": {"documents", "checked", "skipped", "objects", "findings", "errors", "warnings",
             "suppressed", "by_severity"}}

`document` (0-based) and `line` (1-based, or null) locate the finding in the input; `file` is
added to findings and errors when a run checks several named inputs.
"""

from __future__ import annotations

import json
from typing import Any

from incidents.rules.findings import Finding, Report


def finding_as_dict(finding: Finding, *, stories, rule_url) -> dict[str, Any]:
    rule = finding.rule
    data: dict[str, Any] = {
        "rule": {
            "id": rule.id,
            "slug": rule.slug,
            "title": rule.title,
            "severity": rule.severity.label,
            "url": rule_url(rule.id),
        },
        "object": dict(finding.object),
        "path": finding.path,
        "message": finding.message,
        "document": finding.document,
        "line": finding.line,
        "stories": stories(rule.stories),
        "fix": finding.fix,
    }
    if finding.file:
        data["file"] = finding.file
    return data


def report_as_dict(report: Report, *, stories, rule_url) -> dict[str, Any]:
    return {
        "findings": [
            finding_as_dict(f, stories=stories, rule_url=rule_url) for f in report.findings
        ],
        "errors": [e.as_dict() for e in report.errors],
        "warnings": [e.as_dict() for e in report.warnings],
        "summary": report.summary,
    }


def render_json(report: Report, *, stories, rule_url, indent: int | None = 2) -> str:
    data = report_as_dict(report, stories=stories, rule_url=rule_url)
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
