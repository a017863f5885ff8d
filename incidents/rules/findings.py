"""What a run produces: findings, input errors and the summary, plus the exit-code logic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from incidents.rules.base import Rule, Severity
from incidents.rules.parsing import InputError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    object: Mapping[str, str]  # {"apiVersion", "kind", "namespace", "name"}
    path: str  # JSON path inside the object: spec.template.spec.containers[0].resources
    message: str
    document: int  # 0-based index of the document in the input
    line: int | None  # 1-based line of the offending field (or of its closest parent)
    source: str | None = None  # Helm `# Source:` of the document, when present
    file: str | None = None  # the input's name when a run checks several files
    patch: tuple[dict[str, Any], ...] = ()  # JSON Patch for the object, when the fix is mechanical
    prefix: str = ""  # where the object sits in its document (`items[3]` in a `kind: List`)
    # the patch as line edits of the input: (0-based line, lines removed, new lines), or ()
    edits: tuple[tuple[int, int, tuple[str, ...]], ...] = ()

    @property
    def fix(self) -> dict[str, Any]:
        """{"summary": one-line remedy, "patch": JSON Patch ops or None}."""
        return {"summary": self.rule.fix_summary, "patch": list(self.patch) or None}

    @property
    def severity(self) -> Severity:
        return self.rule.severity


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    warnings: list[InputError] = field(default_factory=list)  # input oddities that lose nothing
    documents: int = 0  # documents read (malformed ones are errors, not counted here)
    skipped: int = 0  # documents read but not checked: empty, or not a Kubernetes object
    objects: int = 0
    suppressed: int = 0

    @property
    def summary(self) -> dict[str, Any]:
        by_severity = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for finding in self.findings:
            by_severity[finding.severity.label] += 1
        return {
            "documents": self.documents,
            "checked": self.documents - self.skipped,
            "skipped": self.skipped,
            "objects": self.objects,
            "findings": len(self.findings),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "suppressed": self.suppressed,
            "by_severity": by_severity,
        }

    def exit_code(self, fail_on: Severity | str = Severity.WARNING) -> int:
        """2 when the input had errors, 1 when a finding is at or above `fail_on`, else 0."""
        threshold = Severity.parse(fail_on)
        if self.errors:
            return EXIT_ERROR
        if any(f.severity >= threshold for f in self.findings):
            return EXIT_FINDINGS
        return EXIT_OK

    def by_object(self) -> list[tuple[tuple, list[Finding]]]:
        """Findings grouped by (document, kind, namespace, name), in input order."""
        groups: dict[tuple, list[Finding]] = {}
        for finding in self.findings:
            o = finding.object
            key = (
                finding.file,
                finding.document,
                o["kind"],
                o["namespace"],
                o["name"],
                o["apiVersion"],
            )
            groups.setdefault(key, []).append(finding)
        return list(groups.items())
