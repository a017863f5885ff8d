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


@pytest.mark.django_db
def test_browse_counts_count_published_stories_only(make_story, vocabulary):
    dns, net = vocabulary["dns"], vocabulary["networking"]
    make_story(slug="a", organisation="Acme", platform="gke", categories=[dns, net])
    make_story(slug="b", organisation="Acme", platform="eks", categories=[dns])
    make_story(slug="c", organisation="Beta", platform="eks", categories=[net], status="draft")
    counts = selectors.browse_counts(newest=5)
    assert counts["categories"] == {dns.pk: 2, net.pk: 1}
    assert counts["technologies"] == {}
    assert counts["platforms"] == {"gke": 1, "eks": 1}
    assert (counts["stories"], counts["organisations"]) == (2, 1)
    assert sorted(counts["newest"]) == sorted(selectors.story_list().values_list("pk", flat=True))


@pytest.mark.django_db
def test_stories_by_ids_keep_the_order_given_and_leave_out_drafts(make_story):
    first, draft, last = (
        make_story(slug="first"),
        make_story(slug="draft", status="draft"),
        make_story(slug="last"),
    )
    found = selectors.stories_by_ids([last.pk, draft.pk, first.pk, 999_999])
    assert [s.slug for s in found] == ["last", "first"]


@pytest.mark.django_db
def test_story_list_narrows_to_one_category_technology_or_platform(make_story, vocabulary):
    make_story(slug="dns", categories=[vocabulary["dns"]], platform="gke")
    make_story(slug="oom", technologies=[vocabulary["oom-killer"]], platform="eks")

    def slugs(**narrow) -> list[str]:
        return [s.slug for s in selectors.story_list(**narrow)]

    assert slugs(category=vocabulary["dns"]) == ["dns"]
    assert slugs(technology=vocabulary["oom-killer"]) == ["oom"]
    assert slugs(platform="eks") == ["oom"]
