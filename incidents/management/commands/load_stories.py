"""Load the curated vocabulary, story files and story-rule links into the database."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from incidents import selectors, services
from incidents.rules.links import LINKS_FILE, LinksError, read_links
from incidents.storyfiles import DATA_DIR, STORIES_DIR, read_story_dir


class Command(BaseCommand):
    help = (
        "Load curated stories (incidents/data/stories/*.md) idempotently: create and update by "
        "source URL, never duplicate, and report conflicts with curators' newer edits."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=str(STORIES_DIR))
        parser.add_argument("--vocabulary", default=str(DATA_DIR / "vocabulary.yaml"))
        parser.add_argument("--links", default=str(LINKS_FILE))
        parser.add_argument(
            "--force", action="store_true", help="Overwrite curator edits with the file content."
        )

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        vocabulary = self._read_yaml(Path(options["vocabulary"]))
        counts = services.vocabulary_sync(
            categories=vocabulary.get("categories", []),
            technologies=vocabulary.get("technologies", []),
        )
        self.stdout.write(
            f"vocabulary: {counts['categories']} categories, {counts['technologies']} technologies"
        )
        files, problems = read_story_dir(directory)
        tally: dict[str, int] = {}
        for path, story_file in files:
            try:
                outcome = services.story_load_file(story_file=story_file, force=options["force"])
            except (ValidationError, IntegrityError) as exc:
                if not _identity_conflict(exc):
                    problems.append(f"{path.name}: {'; '.join(_messages(exc))}")
                    continue
                # The database gave this file's slug or source URL to another story (curator
                # writes through the API can do that): report it and keep going, so start-up
                # (make setup, the migrate job) never fails on it.
                tally["conflict"] = tally.get("conflict", 0) + 1
                self.stderr.write(
                    f"conflict: {path.name}: its slug or source URL belongs to another story in "
                    f"the database ({'; '.join(_messages(exc))}); kept the database as it is. "
                    "Resolve it in the admin (or edit the file), then load again."
                )
                continue
            tally[outcome] = tally.get(outcome, 0) + 1
            if outcome == "conflict":
                self.stderr.write(
                    f"conflict: {path.name}: the record was edited in the database and the file "
                    "changed too; kept the database version (use --force to take the file)"
                )
            elif outcome in {"created", "updated"} and options["verbosity"] > 1:
                self.stdout.write(f"{outcome}: {path.name}")
        self.stdout.write(
            "stories: " + ", ".join(f"{n} {k}" for k, n in sorted(tally.items())) or "none"
        )
        links_path = Path(options["links"])
        if links_path.exists():
            self._load_links(links_path, problems)
        for problem in problems:
            self.stderr.write(f"error: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s); the rest was loaded")

    def _read_yaml(self, path: Path) -> dict:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        except (OSError, yaml.YAMLError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        return data or {}

    def _load_links(self, path: Path, problems: list[str]) -> None:
        """Mirror the curated links file (their one owner) into StoryRule rows."""
        try:
            links = read_links(path)
        except LinksError as exc:
            problems.append(str(exc))
            return
        if not selectors.rules_synced():
            self.stdout.write("links: skipped (no rules yet: run sync_rules first)")
            return
        try:
            counts = services.story_rule_links_sync(
                links=[{"story": x.story, "rule": x.rule, "note": x.note} for x in links]
            )
        except ValidationError as exc:
            problems.append(f"{path.name}: {'; '.join(exc.messages)}")
            return
        self.stdout.write(
            f"links: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['removed']} removed"
        )


def _messages(exc: Exception) -> list[str]:
    return exc.messages if isinstance(exc, ValidationError) else [str(exc).splitlines()[0]]


def _identity_conflict(exc: Exception) -> bool:
    """True when the only problem is a slug or source URL already taken by another story."""
    if isinstance(exc, IntegrityError):
        return "slug" in str(exc) or "source_url" in str(exc)
    if not hasattr(exc, "error_dict"):
        return False
    codes = {(name, error.code) for name, errors in exc.error_dict.items() for error in errors}
    return bool(codes) and all(
        name in {"slug", "source_url"} and code == "unique" for name, code in codes
    )
