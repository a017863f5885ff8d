"""System checks with stable IDs (incidents.E001 / incidents.W001 ...)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.compatibility)
def check_search_backend(app_configs, **kwargs):
    errors = []
    if settings.KB_SEARCH_BACKEND == "postgres" and not settings.IS_POSTGRES:
        errors.append(
            Error(
                "KB_SEARCH_BACKEND=postgres needs a PostgreSQL database.",
                hint="Set DATABASE_URL to a postgres:// URL or KB_SEARCH_BACKEND=whoosh.",
                id="incidents.E001",
            )
        )
    return errors


@register("search")
def check_search_index(app_configs, **kwargs):
    """incidents.W001: the index is missing; incidents.W002: it disagrees with the database.

    A missing index over an empty database is not reported: there is nothing to search yet
    (a fresh database before `load_stories`, or a restore in progress)."""
    from django.db import DatabaseError

    from incidents import search
    from incidents.models import Story

    try:
        status = search.index_status()
        if not status["exists"] and not Story.objects.exists():
            return []
    except (DatabaseError, OSError):
        return []  # no tables yet (before migrate) or unreadable storage: nothing to compare
    if not status["exists"]:
        return [
            Warning(
                "The search index does not exist: searches return nothing.",
                hint="Run `python manage.py rebuild_search_index`.",
                id="incidents.W001",
            )
        ]
    if status["stale"]:
        return [
            Warning(
                f"The search index is stale: {status['stale']} stories differ from the database.",
                hint="Run `python manage.py rebuild_search_index --check`.",
                id="incidents.W002",
            )
        ]
    return []
