"""The JSON shape shared by `kbcheck --format json` and the API.

{"findings": [{"rule": {"id", "slug", "title", "severity", "url"},
               "object": {"apiVersion", "kind", "namespace", "name"},
               "path", "message", "document", "line",
               "fix": {"summary": one-line remedy, "patch": JSON Patch (RFC 6902) or null},
               "stories": [{"slug", "title", "organisation", "year", "source_url", "url"}],
               "reports": [URLs of public incident reports, for rules no story backs yet]}],
 "errors": [{"document", "line", "message", "code"}],
 "warnings": [{"document", "line", "message", "code"}],   # e.g. a key repeated, same value
 "summary": {"documents", "checked", "skipped", "objects", "findings", "errors", "warnings",
             "suppressed", "by_severity"}}

`document` (0-based) and `line` (1-based, or null) locate the finding in the input; `file` is
added to findings and errors when a run checks several named inputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from incidents.rules.findings import Finding, Report
from incidents.rules.parsing import InputError


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
        "reports": list(rule.reports),
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


CHUNK_CHARS = 64 * 1024


def iter_json(report: Report, *, stories, rule_url, max_listed: int | None = None) -> Iterator[str]:
    """The document render_json prints, compact and in pieces of about CHUNK_CHARS: findings
    are turned into dicts and encoded one at a time, so a report with 100,000 findings is
    never held as one structure or one string (the API streams it). With `max_listed`, the
    error and warning lists are cut to that many each (the summary still counts them all)."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    buffer: list[str] = []
    size = 0

    def listed(items):
        return items if max_listed is None else items[:max_listed]

    sections = (
        ('{"findings":[', report.findings, _finding_encoder(stories, rule_url)),
        ('],"errors":[', listed(report.errors), InputError.as_dict),
        ('],"warnings":[', listed(report.warnings), InputError.as_dict),
    )
    for opening, items, as_dict in sections:
        buffer.append(opening)
        for i, item in enumerate(items):
            piece = encode(as_dict(item))
            buffer.append("," + piece if i else piece)
            size += len(piece)
            if size >= CHUNK_CHARS:
                yield "".join(buffer)
                buffer, size = [], 0
    buffer.append('],"summary":' + encode(report.summary) + "}\n")
    yield "".join(buffer)


def _finding_encoder(stories, rule_url):
    def as_dict(finding: Finding) -> dict[str, Any]:
        return finding_as_dict(finding, stories=stories, rule_url=rule_url)

    return as_dict
