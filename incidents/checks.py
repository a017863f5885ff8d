"""System checks with stable IDs (incidents.E001 / incidents.W001 ...)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


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
