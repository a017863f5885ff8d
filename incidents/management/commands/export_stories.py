"""Write every story in the database out as curated files (the load_stories format).

Next to the story files it writes `vocabulary.yaml` and `story_rules.yaml` (the curator-editable
categories, technologies and story-rule links), so that
`load_stories DIR --vocabulary DIR/vocabulary.yaml --links DIR/story_rules.yaml` (after
`sync_rules`) restores the content into an empty database.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from incidents import selectors
from incidents.search.query import term_sets
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
        stories = selectors.stories_for_export(published_only=options["published_only"])
        count = 0
        for story in stories:
            text = story_file_to_text(story_to_file(story))
            (directory / f"{story.slug}.md").write_text(text, encoding="utf-8")
            count += 1
        self._write_yaml(directory / "vocabulary.yaml", _vocabulary())
        links = selectors.links_for_export(published_only=options["published_only"])
        self._write_yaml(
            directory / "story_rules.yaml",
            {
                "links": [
                    {"story": link.story.slug, "rule": link.rule.rule_id, "note": link.note}
                    for link in links
                ]
            },
        )
        self.stdout.write(f"exported {count} stories to {directory}")

    def _write_yaml(self, path: Path, data: dict) -> None:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(text, encoding="utf-8")


def _vocabulary() -> dict:
    return {
        "categories": [
            {
                "slug": c.slug,
                "name": c.name,
                "description": c.description,
                # The Chinese landing text only where it exists, as in the curated file.
                **({"name_zh": c.name_zh} if c.name_zh else {}),
                **({"description_zh": c.description_zh} if c.description_zh else {}),
            }
            for c in selectors.category_list()
        ],
        "technologies": [
            {
                "slug": t.slug,
                "name": t.name,
                "aliases": list(t.aliases),
                "description": t.description,
            }
            for t in selectors.technology_list()
        ],
        # Search term sets live only in the shipped vocabulary file (they are search
        # configuration, not database rows); carried over so the export stays complete.
        "terms": term_sets(),
    }
