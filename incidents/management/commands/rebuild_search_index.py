"""Rebuild the search index into a new generation and swap it in, or check it against the DB."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents import search


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the database (built aside, swapped in atomically: searches "
        "keep working meanwhile). With --check, report stories whose indexed version or content "
        "differs from the database and re-index them, and search the index once (an index that "
        "cannot answer is rebuilt; exit 1 if it still cannot). --dry-run: report only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Compare with the database and fix differences."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="With --check: report, do not fix."
        )

    def handle(self, *args, **options):
        backend = settings.KB_SEARCH_BACKEND
        if options["check"]:
            report = search.check_index(fix=not options["dry_run"])
            self.stdout.write(
                f"{backend}: {report.stories} stories, {report.indexed} indexed; "
                f"missing {len(report.missing)}, stale {len(report.stale)}, "
                f"orphaned {len(report.orphaned)}"
            )
            for label, ids in (
                ("missing", report.missing),
                ("stale", report.stale),
                ("orphaned", report.orphaned),
            ):
                if ids:
                    self.stdout.write(f"  {label}: {', '.join(map(str, ids[:50]))}")
            if report.unusable:
                raise CommandError(
                    f"{backend}: the index cannot answer a search ({report.unusable})"
                    + ("" if options["dry_run"] else "; a full rebuild did not fix it")
                )
            if report.ok:
                self.stdout.write(self.style.SUCCESS("index is up to date"))
            elif report.fixed:
                self.stdout.write(self.style.SUCCESS("fixed"))
            return
        started = time.perf_counter()
        count = search.rebuild(progress=lambda n: self.stdout.write(f"  {n} stories…"))
        elapsed = time.perf_counter() - started
        rate = count / elapsed if elapsed else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"{backend}: indexed {count} stories in {elapsed:.2f}s ({rate:.0f} stories/s)"
            )
        )
