"""SARIF 2.1.0 for GitHub code scanning (upload with github/codeql-action/upload-sarif).

One run, tool driver `kbcheck` with every manifest rule as a reporting descriptor; one result per
finding, located by file and line (GitHub needs a physical location on every result) and by the
object and JSON path as a logical location. Input errors become tool notifications.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from incidents.rules.base import Severity
from incidents.rules.findings import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
INFORMATION_URI = "https://k8s.af/"


def _absolute(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _descriptor(rule, *, stories, rule_url) -> dict[str, Any]:
    linked = stories(rule.stories)
    story_md = "".join(
        f"\n- [{s['title']}]({s.get('url') or s.get('source_url') or ''})" for s in linked
    )
    reports_md = "".join(f"\n- <{r}>" for r in rule.reports)
    refs_md = "".join(f"\n- <{r}>" for r in rule.references)
    markdown = (
        f"**What it checks.** {rule.checks}\n\n**Why it matters.** {rule.why}\n\n"
        f"**How to fix.** {rule.fix}\n\n```yaml\n{rule.fix_example.rstrip()}\n```\n"
        + (f"\n**Stories.**{story_md}\n" if story_md else "")
        + (f"\n**Public incident reports.**{reports_md}\n" if reports_md else "")
        + (f"\n**References.**{refs_md}\n" if refs_md else "")
    )
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(p.capitalize() for p in rule.slug.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.checks},
        "help": {"text": f"{rule.checks}\n\n{rule.fix}", "markdown": markdown},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": ["kubernetes", *rule.kinds], "slug": rule.slug},
    }
    if rule.reports:
        descriptor["properties"]["reports"] = list(rule.reports)
    url = rule_url(rule.id)
    if _absolute(url):
        descriptor["helpUri"] = url
    return descriptor


def _fix(finding, uri: str) -> dict[str, Any]:
    """A SARIF fix: the finding's line edits as replacements of whole lines (1-based)."""
    replacements = []
    for index, removed, new in finding.edits:
        region: dict[str, Any] = {"startLine": index + 1, "startColumn": 1}
        region.update(endLine=index + 1 + removed, endColumn=1)
        replacements.append({"deletedRegion": region, "insertedContent": {"text": "".join(new)}})
    return {
        "description": {"text": finding.rule.fix_summary},
        "artifactChanges": [{"artifactLocation": {"uri": uri}, "replacements": replacements}],
    }


def render_sarif(report: Report, *, stories, rule_url, uri: str = "stdin") -> str:
    from incidents.rules.registry import REGISTRY

    rules = REGISTRY.manifest_rules()
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for f in report.findings:
        o = f.object
        ref = f"{o['kind']}/{o['namespace'] or '-'}/{o['name']}"
        fingerprint = hashlib.sha256(f"{f.rule.id}|{ref}|{f.path}".encode()).hexdigest()[:32]
        result: dict[str, Any] = {
            "ruleId": f.rule.id,
            "level": LEVEL[f.severity],
            "message": {"text": f"{ref}: {f.message}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file or uri},
                        "region": {"startLine": f.line or 1},
                    },
                    "logicalLocations": [
                        {
                            "fullyQualifiedName": f"{ref}:{f.path}" if f.path else ref,
                            "kind": "object",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"kbFinding/v1": fingerprint},
            "properties": {"document": f.document, "path": f.path, "fix": f.fix},
        }
        if f.edits:
            result["fixes"] = [_fix(f, f.file or uri)]
        if f.rule.id in index:
            result["ruleIndex"] = index[f.rule.id]
        results.append(result)
    notifications = [
        {
            "level": level,
            "message": {"text": e.message},
            "descriptor": {"id": e.code},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": e.file or uri},
                        "region": {"startLine": e.line or 1},
                    }
                }
            ],
        }
        for level, problems in (("error", report.errors), ("warning", report.warnings))
        for e in problems
    ]
    sarif = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kbcheck",
                        "informationUri": INFORMATION_URI,
                        "semanticVersion": "1.0.0",
                        "rules": [
                            _descriptor(r, stories=stories, rule_url=rule_url) for r in rules
                        ],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not report.errors,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
