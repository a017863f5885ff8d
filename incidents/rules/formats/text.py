"""Plain text for people: findings grouped by object, then input errors, then a summary."""

from __future__ import annotations

import json

from incidents.rules.findings import Report


def render_text(report: Report, *, stories, rule_url, color: bool = False) -> str:
    out: list[str] = []
    for (file, document, kind, namespace, name, _), findings in report.by_object():
        ns = f"{namespace}/" if namespace else ""
        where = f"{file}: " if file else ""
        source = f", {findings[0].source}" if findings[0].source else ""
        out.append(f"{where}{kind} {ns}{name or '<unnamed>'} (document {document}{source})")
        for f in findings:
            line = f" (line {f.line})" if f.line else ""
            severity = f.severity.label
            out.append(f"  {severity:<8} {f.rule.id} {f.rule.slug}: {f.message}")
            if f.path:
                out.append(f"           at {f.path}{line}")
            out.append(f"           fix: {f.rule.fix_summary}")
            if f.patch:
                out.append(f"           patch: {json.dumps(list(f.patch), ensure_ascii=False)}")
            out.append(f"           rule: {f.rule.title} <{rule_url(f.rule.id)}>")
            for story in stories(f.rule.stories):
                out.append(f"           story: {_story_line(story)}")
            for url in f.rule.reports:
                out.append(f"           report: <{url}>")
        out.append("")
    for title, problems in (("Input errors:", report.errors), ("Input warnings:", report.warnings)):
        if not problems:
            continue
        out.append(title)
        for e in problems:
            parts = [e.file or "", f"document {e.document}" if e.document is not None else ""]
            parts.append(f"line {e.line}" if e.line else "")
            where = ", ".join(p for p in parts if p) or "input"
            out.append(f"  {where}: {e.message} [{e.code}]")
        out.append("")
    s = report.summary
    by = s["by_severity"]
    out.append(
        f"{s['findings']} finding(s) ({by['error']} error, {by['warning']} warning, "
        f"{by['info']} info) in {s['objects']} object(s); {s['checked']} document(s) checked, "
        f"{s['skipped']} skipped (empty or not a Kubernetes object); {s['errors']} input error(s), "
        f"{s['warnings']} input warning(s); {s['suppressed']} suppressed."
    )
    return "\n".join(out) + "\n"


def _story_line(story) -> str:
    """`Title (Organisation, 2020) <url>`, leaving out what the story does not say."""
    about = ", ".join(str(story[k]) for k in ("organisation", "year") if story.get(k))
    return f"{story['title']}{f' ({about})' if about else ''} <{story.get('url') or ''}>"
