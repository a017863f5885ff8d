"""Backend parametrisation: Whoosh always; PostgreSQL too when the test database is PostgreSQL."""

from __future__ import annotations

import pytest
from django.conf import settings

from incidents.search import query

BACKENDS = ["whoosh", *(["postgres"] if settings.IS_POSTGRES else [])]


@pytest.fixture(params=BACKENDS)
def backend(request, settings):
    settings.KB_SEARCH_BACKEND = request.param
    query.clear_alias_cache()
    yield request.param
    query.clear_alias_cache()
