"""Reads shared by the pages, the API and chat."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import selectors


@pytest.mark.django_db
def test_stories_by_slugs_leaves_out_drafts_unless_asked(make_story):
    make_story(slug="live", title="Live story")
    make_story(slug="hidden", title="Draft story", status="draft")
    assert sorted(selectors.stories_by_slugs(["live", "hidden", "missing"])) == ["live"]
    every = selectors.stories_by_slugs(["live", "hidden"], published_only=False)
    assert sorted(every) == ["hidden", "live"]


@pytest.mark.django_db
def test_stories_by_slugs_reads_only_the_fields_asked_for_by_slug(make_story):
    make_story(slug="live", title="Live story", organisation="Acme")
    with CaptureQueriesContext(connection) as queries:
        story = selectors.stories_by_slugs(["live"], fields=("title", "organisation"))["live"]
    assert (story.title, story.organisation) == ("Live story", "Acme")
    (sql,) = [q["sql"] for q in queries.captured_queries]
    # The status filter stays out of the query: SQLite would walk a status index over every
    # published story instead of looking the slugs up (the check and rule pages at 10,000).
    assert '"status" =' not in sql and '"symptom"' not in sql
