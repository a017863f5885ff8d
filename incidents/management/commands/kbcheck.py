"""`python manage.py kbcheck`: the `kbcheck` console script (incidents.rules.cli) inside Django.

Same flags, same output, same exit codes; the only difference is the default of `--site-url`,
which here is the project's `SITE_URL` setting.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.rules import cli
from incidents.rules.findings import EXIT_ERROR


class Command(BaseCommand):
    help = "Check Kubernetes manifests (files, directories or - for stdin) against the rules."
    requires_system_checks: list[str] = []  # a CLI filter: keep stderr for its own errors

    def add_arguments(self, parser) -> None:
        cli.add_arguments(parser, site_url=settings.SITE_URL)

    def handle(self, *args, **options) -> None:
        try:
            code = cli.run(
                options,
                stdin=sys.stdin.buffer,
                write=lambda text: self.stdout.write(text, ending=""),
            )
        except cli.UsageError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from None
        if code:
            sys.exit(code)
