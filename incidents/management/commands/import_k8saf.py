"""Import the k8s.af README list: a draft story for every URL not yet known."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents import selectors, services
from incidents.k8saf import parse


class Command(BaseCommand):
    help = (
        "Read the k8s.af README format from PATH (or - for stdin) and create a draft story for "
        "each URL not yet known. Known URLs are left untouched; malformed entries are reported "
        "with their line numbers."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="README.md in the k8s.af list format, or - for stdin")

    def handle(self, *args, **options):
        path = options["path"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        entries, problems = parse(text)
        created = skipped = 0
        for entry in entries:
            if selectors.story_with_source_url_exists(entry.url):
                skipped += 1
                self.stdout.write(f"skipped (known URL): {entry.title}")
                continue
            try:
                story = services.story_create_from_listing(entry=entry)
            except ValidationError as exc:
                problems.append(f"line {entry.line}: {'; '.join(exc.messages)}")
                continue
            created += 1
            self.stdout.write(f"created draft: {story.slug}")
        for problem in problems:
            self.stderr.write(f"malformed: {problem}")
        self.stdout.write(
            f"{len(entries)} entries: {created} created, {skipped} skipped, "
            f"{len(problems)} malformed"
        )
        if not entries and problems:
            raise CommandError("no valid entries found")
