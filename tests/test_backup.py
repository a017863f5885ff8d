"""Backups (README "Operations"): the content export and the database's own dump both give back
exactly what was there."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest
from django.core.management import call_command

from incidents import services
from incidents.models import Category, Rule, Story, StoryRule, Technology

ROOT = Path(__file__).resolve().parents[1]
# Bookkeeping that a restore legitimately renews.
BOOKKEEPING = {"id", "created_at", "updated_at", "published_at", "version", "file_hash"}
# Curator-only fields the story file format does not carry: the database dump keeps them.
NOT_IN_STORY_FILES = {"curation_note", "listing_involved"}


def _rules() -> None:
    """Stand-in for `sync_rules`: the rule rows are mirrored from code, identically each time."""
    for n, slug in enumerate(["pdb-missing", "cpu-limits-throttle"], start=1):
        Rule.objects.update_or_create(
            rule_id=f"KB90{n}",
            defaults={"slug": slug, "title": slug.replace("-", " "), "severity": "warning"},
        )


def _snapshot() -> dict:
    stories = {}
    for story in Story.objects.prefetch_related("categories", "technologies"):
        record = {
            field.name: getattr(story, field.name)
            for field in Story._meta.concrete_fields
            if field.name not in BOOKKEEPING | NOT_IN_STORY_FILES
        }
        record["categories"] = sorted(c.slug for c in story.categories.all())
        record["technologies"] = sorted(t.slug for t in story.technologies.all())
        stories[story.slug] = record
    return {
        "stories": stories,
        "links": sorted(
            (link.story.slug, link.rule.rule_id, link.note)
            for link in StoryRule.objects.select_related("story", "rule")
        ),
        "categories": sorted(Category.objects.values_list("slug", "name", "description")),
        "technologies": sorted(
            (t.slug, t.name, tuple(t.aliases), t.description) for t in Technology.objects.all()
        ),
    }


@pytest.mark.django_db
def test_export_wipe_load_gives_back_identical_records_and_links(tmp_path):
    call_command("load_stories", stdout=io.StringIO(), stderr=io.StringIO())
    _rules()
    slugs = sorted(Story.objects.values_list("slug", flat=True))[:3]
    services.story_rule_links_sync(
        links=[
            {"story": slugs[0], "rule": "KB901", "note": "No budget: the drain took every pod."},
            {"story": slugs[1], "rule": "KB902", "note": "Throttled at 40% CPU."},
            {"story": slugs[1], "rule": "KB901", "note": 'Also: no PDB, "quoted" & <b>.'},
        ]
    )
    # Curator edits the repository files do not have: text, a draft, a new alias.
    story = Story.objects.get(slug=slugs[2])
    services.story_update(
        story=story,
        data={"fix": "Curator's fix:\n\n```yaml\nndots: 2\n```", "status": "draft"},
        expected_version=story.version,
    )
    tech = Technology.objects.order_by("slug").first()
    tech.aliases = [*tech.aliases, "a curator's alias"]
    tech.save()
    before = _snapshot()
    assert len(before["stories"]) >= 60 and len(before["links"]) == 3

    backup = tmp_path / "backup"
    call_command("export_stories", str(backup), stdout=io.StringIO())

    StoryRule.objects.all().delete()
    Story.objects.all().delete()
    Technology.objects.all().delete()
    Category.objects.all().delete()
    Rule.objects.all().delete()
    assert _snapshot()["stories"] == {}

    _rules()
    call_command(
        "load_stories",
        str(backup),
        vocabulary=str(backup / "vocabulary.yaml"),
        links=str(backup / "story_rules.yaml"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert _snapshot() == before


# --- the database's own dump --------------------------------------------------------------------


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def _run(*command: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


def _everything(env: dict[str, str], out: Path) -> str:
    """All data (stories, history, vocabulary, users) plus the content export, as text."""
    _manage(env, "export_stories", str(out))
    files = "".join(f"{p.name}\n{p.read_text()}" for p in sorted(out.iterdir()))
    data = _manage(env, "dumpdata", "incidents", "auth.user", "--natural-foreign", "--indent", "1")
    return files + data


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "DEBUG": "false",
            "KB_TESTING": "true",
            "KB_VAR_DIR": str(tmp_path / "var"),
            "KB_SEARCH_INDEX_DIR": str(tmp_path / "index"),
        }
    )
    return env


def _fill(env: dict[str, str]) -> None:
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "load_stories")
    code = (
        "import django; django.setup(); from django.contrib.auth.models import User; "
        "User.objects.create_user('curator', password='pw-curator-123', is_staff=True); "
        "from incidents import services; from incidents.models import Story; "
        "s = Story.objects.order_by('slug').first(); "
        "services.story_update(story=s, data={'curation_note': 'checked'}, expected_version=1)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_sqlite_backup_and_restore_gives_back_everything(tmp_path):
    """`sqlite3 kb.sqlite3 ".backup FILE"` is safe while the app runs (WAL) and complete."""
    env = _base_env(tmp_path)
    _fill(env)
    database = tmp_path / "var" / "kb.sqlite3"
    before = _everything(env, tmp_path / "before")
    _run("sqlite3", str(database), f".backup {tmp_path / 'kb-backup.sqlite3'}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "kb-backup.sqlite3", database)
    assert _everything(env, tmp_path / "after") == before


def test_postgresql_dump_and_restore_gives_back_everything(tmp_path):
    """`pg_dump -Fc` then `pg_restore` into an empty database. Uses a scratch database on the
    server of DATABASE_URL (or the local one CI starts)."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        server = "postgres://postgres@127.0.0.1:5432/postgres"
    parsed = dj_database_url.parse(server)
    name = f"kb_backup_{uuid.uuid4().hex[:10]}"
    conn = ["-h", parsed["HOST"] or "127.0.0.1", "-p", str(parsed["PORT"] or 5432)]
    conn += ["-U", parsed["USER"] or "postgres"]
    pg_env = {**os.environ, "PGPASSWORD": parsed.get("PASSWORD") or ""}
    env = _base_env(tmp_path)
    env["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name
    env["KB_SEARCH_BACKEND"] = "postgres"
    _run("createdb", *conn, name, env=pg_env)
    try:
        _fill(env)
        before = _everything(env, tmp_path / "before")
        dump = tmp_path / "kb.dump"
        _run("pg_dump", *conn, "-Fc", "--no-owner", "-f", str(dump), name, env=pg_env)
        _run("dropdb", *conn, name, env=pg_env)
        _run("createdb", *conn, name, env=pg_env)
        restore = ["pg_restore", *conn, "--no-owner", "--exit-on-error", "-d", name, str(dump)]
        _run(*restore, env=pg_env)
        assert _everything(env, tmp_path / "after") == before
    finally:
        subprocess.run(["dropdb", *conn, "--if-exists", name], capture_output=True, env=pg_env)
