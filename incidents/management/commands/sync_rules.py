"""Mirror the code rule registry (incidents.rules) into the Rule table. Idempotent.

Rows are created or updated from the registry; a row whose rule left the registry is marked
inactive, never deleted (its ID is retired, and curated links to it stay readable). A second
run changes nothing. Story-rule links are loaded by `load_stories` (from
incidents/data/story_rules.yaml), which needs these rows: run `sync_rules` first.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from incidents.models import Rule


def rules_sync(*, registry=None) -> dict[str, int]:
    """Create, update or deactivate Rule rows so they mirror the registry."""
    if registry is None:
        from incidents.rules.registry import REGISTRY as registry
    wanted = {
        rule.id: {
            "slug": rule.slug,
            "title": rule.title[:300],
            "severity": rule.severity.label,
            "kind": rule.rule_type,
            "summary": rule.checks,
            "active": True,
        }
        for rule in registry.all()
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0}
    now = timezone.now()
    with transaction.atomic():
        existing = {row.rule_id: row for row in Rule.objects.select_for_update()}
        # Free slugs held by other rows first, so a slug moving between IDs cannot collide.
        for rule_id, row in existing.items():
            fields = wanted.get(rule_id)
            if fields is None and row.active:
                row.active = False
                row.save(update_fields=["active"])
                counts["deactivated"] += 1
        for rule_id, fields in wanted.items():
            row = existing.get(rule_id)
            if row is None:
                Rule.objects.create(rule_id=rule_id, synced_at=now, **fields)
                counts["created"] += 1
            elif any(getattr(row, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(row, name, value)
                row.synced_at = now
                row.full_clean()
                row.save()
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts


class Command(BaseCommand):
    help = "Mirror the rule registry (incidents.rules) into the database; idempotent."

    def handle(self, *args, **options) -> None:
        counts = rules_sync()
        self.stdout.write(
            "rules: {created} created, {updated} updated, {unchanged} unchanged, "
            "{deactivated} deactivated".format(**counts)
        )
