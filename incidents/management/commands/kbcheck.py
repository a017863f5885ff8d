"""Check Kubernetes manifests against the rule library; every finding links to its stories.

    python manage.py kbcheck deploy/ app.yaml   # files, directories (*.yaml, *.yml, *.json)
    helm template ./chart | python manage.py kbcheck - --format sarif
    kubectl get nodes -o json | python manage.py kbcheck - --param pod-cidr=10.0.0.0/16
    python manage.py kbcheck --export prometheus        # the runtime rules as a PrometheusRule

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.models import Status, Story
from incidents.rules.base import Severity
from incidents.rules.engine import UsageError, check_inputs
from incidents.rules.formats import FORMATS, render
from incidents.rules.parsing import DEFAULT_LIMITS

SUFFIXES = (".yaml", ".yml", ".json")
EXIT_USAGE = 2


def story_resolver(base_url: str):
    """slug -> {"slug", "title", "source_url", "url"} for published stories (one query)."""
    from incidents.rules.registry import REGISTRY

    slugs = {slug for rule in REGISTRY.all() for slug in rule.stories}
    stories = {
        story.slug: {
            "slug": story.slug,
            "title": story.title,
            "source_url": story.source_url,
            "url": base_url + story.get_absolute_url(),
        }
        for story in Story.objects.filter(slug__in=slugs, status=Status.PUBLISHED)
    }
    return stories.get


class Command(BaseCommand):
    help = "Check Kubernetes manifests (files, directories or - for stdin) against the rules."
    requires_system_checks: list[str] = []  # a CLI filter: keep stderr for its own errors

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="files, directories, or - for stdin")
        parser.add_argument("--format", choices=FORMATS, default="text")
        parser.add_argument(
            "--fail-on",
            choices=[s.label for s in Severity],
            default="warning",
            help="exit 1 when a finding is at or above this severity (default: warning)",
        )
        parser.add_argument(
            "--skip", action="append", default=[], help="rule IDs or slugs, comma-separated"
        )
        parser.add_argument(
            "--param", action="append", default=[], metavar="KEY=VALUE", help="rule parameter"
        )
        parser.add_argument(
            "--export", choices=["prometheus"], help="print the runtime rules instead"
        )
        parser.add_argument("--base-url", default=None, help="site URL for links in the output")

    def handle(self, *args, **options) -> None:
        base_url = (options["base_url"] or getattr(settings, "SITE_URL", "")).rstrip("/")
        if options["export"]:
            from incidents.rules.runtime import export_prometheus_rule

            self.stdout.write(export_prometheus_rule(base_url=base_url or None), ending="")
            return
        if not options["paths"]:
            raise CommandError("give at least one PATH, or - for stdin", returncode=EXIT_USAGE)
        params = {}
        for item in options["param"]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--param {item!r}: expected KEY=VALUE", returncode=EXIT_USAGE)
            params[key.strip()] = value.strip()
        inputs = self._inputs(options["paths"])
        try:
            report = check_inputs(inputs, skip=options["skip"], params=params)
        except UsageError as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None
        output = render(
            report,
            options["format"],
            story_resolver=story_resolver(base_url),
            rule_url=lambda rule_id: f"{base_url}/rules/{rule_id}/",
        )
        self.stdout.write(output, ending="")
        code = report.exit_code(options["fail_on"])
        if code:
            sys.exit(code)

    def _inputs(self, paths: list[str]) -> list[tuple[str, bytes]]:
        inputs: list[tuple[str, bytes]] = []
        for name in paths:
            if name == "-":
                data = sys.stdin.buffer.read(DEFAULT_LIMITS.max_bytes + 1)
                inputs.append(("stdin", data))
                continue
            path = Path(name)
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
                if not files:
                    raise CommandError(f"{name}: no {', '.join(SUFFIXES)} files", returncode=2)
            elif path.is_file():
                files = [path]
            else:
                raise CommandError(f"{name}: no such file or directory", returncode=EXIT_USAGE)
            for file in files:
                try:
                    with file.open("rb") as handle:
                        inputs.append((str(file), handle.read(DEFAULT_LIMITS.max_bytes + 1)))
                except OSError as exc:
                    raise CommandError(f"{file}: {exc}", returncode=EXIT_USAGE) from None
        return inputs
