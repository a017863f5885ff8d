"""Write every story in the database out as curated files (the load_stories format)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.models import Story
from incidents.storyfiles import story_file_to_text, story_to_file


class Command(BaseCommand):
    help = "Export stories to DIR as Markdown files with YAML front matter, one per story."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--published-only", action="store_true", help="Skip drafts (default: export all)."
        )

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot create {directory}: {exc}") from None
        stories = Story.objects.prefetch_related("categories", "technologies").order_by("slug")
        if options["published_only"]:
            stories = stories.filter(status="published")
        count = 0
        for story in stories:
            text = story_file_to_text(story_to_file(story))
            (directory / f"{story.slug}.md").write_text(text, encoding="utf-8")
            count += 1
        self.stdout.write(f"exported {count} stories to {directory}")
