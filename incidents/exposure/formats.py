"""An exposure report as JSON (API and CLI), SARIF 2.1.0 (CI) and text (people).

JSON:
{"snapshot": {"server_version", "nodes", "objects", "files", "secrets_dropped", "errors"},
 "summary": {"exposed", "unknown", "not_applicable", "no_known_conditions"},
 "stories": [{"slug", "title", "organisation", "year", "url", "status", "match", "summary",
              "conditions": [{"description", "kind", "status", "evidence", "reason",
                              "why", "sources"}]}],
 "no_known_conditions": [slug, ...],
 "findings": <the `kbcheck --format json` report of the snapshot's objects>}
"""

from __future__ import annotations

import json
from typing import Any

from incidents.exposure.assess import EXPOSED, NOT_APPLICABLE, UNKNOWN, ExposureReport
from incidents.exposure.conditions import STORY_SOURCE
from incidents.rules.formats import StoryCache, StoryResolver, default_rule_url

FORMATS = ("text", "json", "sarif")
LABEL = {EXPOSED: "exposed", UNKNOWN: "cannot tell", NOT_APPLICABLE: "does not apply"}


def _story(slug: str, resolver: StoryResolver | None) -> dict[str, Any]:
    story = (resolver(slug) if resolver else None) or {}
    return {
        "slug": slug,
        "title": story.get("title") or slug,
        "organisation": story.get("organisation"),
        "year": story.get("year"),
        "url": story.get("url"),
        "source_url": story.get("source_url"),
    }


def report_as_dict(
    report: ExposureReport, *, story_resolver: StoryResolver | None = None, rule_url=None
) -> dict[str, Any]:
    from incidents.rules.formats.json import report_as_dict as findings_as_dict

    snapshot = report.snapshot
    stories = []
    for verdict in report.verdicts:
        entry = _story(verdict.exposure.slug, story_resolver)
        entry.update(
            status=verdict.status,
            match=verdict.exposure.match,
            summary=verdict.exposure.summary,
            conditions=[
                {
                    "description": o.condition.describe(),
                    "kind": o.condition.kind,
                    "status": o.status,
                    "evidence": o.evidence,
                    "reason": o.reason,
                    "why": o.condition.why,
                    "sources": [
                        (entry.get("source_url") or STORY_SOURCE) if s == STORY_SOURCE else s
                        for s in o.condition.sources
                    ],
                }
                for o in verdict.outcomes
            ],
        )
        stories.append(entry)
    return {
        "snapshot": {
            "server_version": snapshot.server_version.raw if snapshot.server_version else None,
            "nodes": len(snapshot.nodes),
            "objects": len(snapshot.objects),
            "files": snapshot.files,
            "secrets_dropped": snapshot.secrets_dropped,
            "errors": [e.as_dict() for e in snapshot.errors],
        },
        "summary": report.summary,
        "stories": stories,
        "no_known_conditions": report.without_conditions,
        "findings": findings_as_dict(
            report.findings,
            stories=StoryCache(story_resolver),
            rule_url=rule_url or default_rule_url,
        ),
    }


def render_json(report: ExposureReport, **options: Any) -> str:
    return json.dumps(report_as_dict(report, **options), indent=2, ensure_ascii=False) + "\n"


def render_text(report: ExposureReport, **options: Any) -> str:
    data = report_as_dict(report, **options)
    snap = data["snapshot"]
    lines = [
        f"Cluster snapshot: Kubernetes {snap['server_version'] or 'version unknown'}, "
        f"{snap['nodes']} nodes, {snap['objects']} objects"
        + (f", {snap['secrets_dropped']} Secrets dropped unread" if snap["secrets_dropped"] else "")
    ]
    for error in snap["errors"]:
        where = error.get("file") or "input"
        line = f":{error['line']}" if error.get("line") else ""
        lines.append(f"  input error {where}{line}: {error['message']}")
    for status in (EXPOSED, UNKNOWN, NOT_APPLICABLE):
        group = [s for s in data["stories"] if s["status"] == status]
        if not group:
            continue
        lines.append("")
        lines.append(f"{LABEL[status].capitalize()} ({len(group)}):")
        for story in group:
            org = f" ({story['organisation']}, {story['year']})" if story["organisation"] else ""
            lines.append(f"- {story['title']}{org}" + (f" {story['url']}" if story["url"] else ""))
            for cond in story["conditions"]:
                lines.append(f"    [{cond['status']}] {cond['description']}")
                for item in cond["evidence"]:
                    lines.append(f"        {item}")
                if cond["reason"]:
                    lines.append(f"        {cond['reason']}")
    summary = data["summary"]
    findings = data["findings"]["summary"]
    lines += [
        "",
        f"{summary['exposed']} exposed, {summary['unknown']} cannot tell, "
        f"{summary['not_applicable']} do not apply, {summary['no_known_conditions']} stories "
        f"with no known conditions; {findings['findings']} manifest findings on the snapshot's "
        "objects (run with --format json for them).",
    ]
    return "\n".join(lines) + "\n"


def render_sarif(report: ExposureReport, **options: Any) -> str:
    """One SARIF run: a result per exposed (warning) or undecided (note) story."""
    data = report_as_dict(report, **options)
    rules, results = [], []
    for story in data["stories"]:
        if story["status"] == NOT_APPLICABLE:
            continue
        rule_id = f"story/{story['slug']}"
        rules.append(
            {
                "id": rule_id,
                "name": "".join(p.capitalize() for p in story["slug"].split("-")),
                "shortDescription": {"text": story["title"][:200]},
                "fullDescription": {"text": story["summary"] or story["title"]},
                **({"helpUri": story["url"]} if (story["url"] or "").startswith("http") else {}),
            }
        )
        evidence = "; ".join(e for c in story["conditions"] for e in c["evidence"])[:1000]
        message = (
            f"{LABEL[story['status']].capitalize()}: {story['title']}. "
            + (f"Evidence: {evidence}" if evidence else "")
        ).strip()
        results.append(
            {
                "ruleId": rule_id,
                "ruleIndex": len(rules) - 1,
                "level": "warning" if story["status"] == EXPOSED else "note",
                "message": {"text": message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "cluster-snapshot"},
                        },
                        "logicalLocations": [{"name": story["slug"], "kind": "story"}],
                    }
                ],
                "properties": {"status": story["status"], "conditions": story["conditions"]},
            }
        )
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kbcheck-exposure",
                        "informationUri": "https://k8s.af/",
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"summary": data["summary"]},
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def render(report: ExposureReport, fmt: str = "text", **options: Any) -> str:
    renderers = {"text": render_text, "json": render_json, "sarif": render_sarif}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return renderers[fmt](report, **options)
