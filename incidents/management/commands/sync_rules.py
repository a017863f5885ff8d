"""Mirror the code rule registry (incidents.rules) into the Rule table. Idempotent.

Rows are created or updated from the registry; a row whose rule left the registry is marked
inactive, never deleted (its ID is retired, and curated links to it stay readable). A second
run changes nothing. Story-rule links are loaded by `load_stories` (from
incidents/data/story_rules.yaml), which needs these rows: run `sync_rules` first.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from incidents.services import rules_sync


class Command(BaseCommand):
    help = "Mirror the rule registry (incidents.rules) into the database; idempotent."

    def handle(self, *args, **options) -> None:
        counts = rules_sync()
        self.stdout.write(
            "rules: {created} created, {updated} updated, {unchanged} unchanged, "
            "{deactivated} deactivated".format(**counts)
        )
