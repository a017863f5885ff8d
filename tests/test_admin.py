"""Curation admin: list, actions, preview, history and optimistic locking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import Story


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def _change_form_data(story: Story, **overrides) -> dict:
    data = {
        "title": story.title,
        "slug": story.slug,
        "organisation": story.organisation,
        "source_url": story.source_url,
        "source_kind": story.source_kind,
        "year": story.year,
        "listing_year": "",
        "published_date": "",
        "incident_date": "",
        "platform": story.platform,
        "provenance": story.provenance,
        "read_parts": story.read_parts,
        "read_from": "",
        "read_on": "",
        "facts": "[]",
        "listing_involved": "",
        "summary": story.summary,
        "symptom": story.symptom,
        "contributing_factors": story.contributing_factors,
        "fix": story.fix,
        "detection": story.detection,
        "impact": story.impact,
        "status": story.status,
        "curation_note": "",
        "version": story.version,
        "rule_links-TOTAL_FORMS": 0,
        "rule_links-INITIAL_FORMS": 0,
        "rule_links-MIN_NUM_FORMS": 0,
        "rule_links-MAX_NUM_FORMS": 1000,
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_list_searches_and_filters(curator_client, make_story):
    make_story(title="CoreDNS melted", status="draft", summary="")
    make_story(title="Conntrack table full")
    url = reverse("admin:incidents_story_changelist")
    assert b"CoreDNS melted" in curator_client.get(url, {"q": "CoreDNS"}).content
    page = curator_client.get(url, {"status__exact": "published"}).content
    assert b"Conntrack table full" in page and b"CoreDNS melted" not in page


@pytest.mark.django_db
def test_publish_and_unpublish_actions(curator_client, make_story):
    story = make_story(status="draft")
    url = reverse("admin:incidents_story_changelist")
    curator_client.post(url, {"action": "publish", "_selected_action": [story.pk]})
    story.refresh_from_db()
    assert story.status == "published" and story.published_at is not None
    curator_client.post(url, {"action": "unpublish", "_selected_action": [story.pk]})
    story.refresh_from_db()
    assert story.status == "draft"
    assert story.history.first().history_user.username == "curator"


@pytest.mark.django_db
def test_second_curator_save_is_refused_and_nothing_is_overwritten(curator_client, make_story):
    story = make_story(title="Original")
    url = reverse("admin:incidents_story_change", args=[story.pk])
    first = _change_form_data(story, title="First curator")
    second = _change_form_data(story, title="Second curator")  # loaded the same version

    assert curator_client.post(url, first).status_code == 302
    response = curator_client.post(url, second)
    assert response.status_code == 200
    assert "changed" in response.content.decode() and "Reload" in response.content.decode()
    story.refresh_from_db()
    assert story.title == "First curator"
    assert story.version == 2


@pytest.mark.django_db
def test_preview_renders_sanitised_markdown(curator_client):
    url = reverse("admin:incidents_story_preview")
    response = curator_client.post(url, {"text": "**hi** <script>x()</script>"})
    assert response.json()["html"] == "<p><strong>hi</strong> </p>"


@pytest.mark.django_db
def test_preview_needs_a_staff_login(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("admin:incidents_story_preview"), {"text": "x"})
    assert response.status_code == 302  # to the admin login page


@pytest.mark.django_db
def test_history_page_shows_who_changed_what(curator_client, make_story):
    story = make_story(title="Before")
    url = reverse("admin:incidents_story_change", args=[story.pk])
    curator_client.post(url, _change_form_data(story, title="After"))
    page = curator_client.get(reverse("admin:incidents_story_history", args=[story.pk]))
    text = page.content.decode()
    assert "curator" in text and "Before" in text and "After" in text


@pytest.mark.django_db
def test_action_messages_count_stories_in_the_right_number(curator_client, make_story):
    one, two, three = (make_story(status="draft") for _ in range(3))
    url = reverse("admin:incidents_story_changelist")

    def act(action, stories):
        response = curator_client.post(
            url, {"action": action, "_selected_action": [s.pk for s in stories]}, follow=True
        )
        return [str(m) for m in response.context["messages"]]

    assert act("publish", [one]) == ["Published 1 story."]
    assert act("publish", [two, three]) == ["Published 2 stories."]
    assert act("unpublish", [one]) == ["Unpublished 1 story."]
    assert act("unpublish", [two, three]) == ["Unpublished 2 stories."]


@pytest.mark.django_db
def test_history_page_allows_only_its_one_inline_style(curator_client, make_story, settings):
    """django-simple-history's list has `style="border-top: 0"`: its page allows that hash (no
    console error), every other page keeps the strict policy."""
    story = make_story()
    page = curator_client.get(reverse("admin:incidents_story_history", args=[story.pk]))
    assert 'style="border-top: 0"' in page.content.decode()
    policy = page["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-hashes' 'sha256-" in policy
    assert "unsafe-inline" not in policy
    change = curator_client.get(reverse("admin:incidents_story_change", args=[story.pk]))
    assert change["Content-Security-Policy"] == settings.KB_CONTENT_SECURITY_POLICY


@pytest.mark.django_db
def test_publishing_from_the_change_form_stamps_published_at_and_indexes_the_story(
    curator_client, make_story, search_index, django_capture_on_commit_callbacks
):
    from incidents import search

    story = make_story(title="Kubelet flapped under zqxjv pressure", status="draft")
    search_index()
    assert search.search("zqxjv").total == 0  # drafts are not searchable
    url = reverse("admin:incidents_story_change", args=[story.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(url, _change_form_data(story, status="published"))
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == "published" and story.published_at is not None
    assert story.version == 2
    assert story.history.first().history_user.username == "curator"
    assert [hit.story.pk for hit in search.search("zqxjv").hits] == [story.pk]


@pytest.mark.django_db
def test_adding_a_story_in_the_admin_goes_through_the_services(
    curator_client, make_story, django_capture_on_commit_callbacks
):
    from incidents import search

    template = make_story()
    data = _change_form_data(
        template,
        slug="added-in-admin",
        title="Added in the admin with wqpzk",
        source_url="https://example.com/added",
        status="published",
        version="",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(reverse("admin:incidents_story_add"), data)
    assert response.status_code == 302
    added = Story.objects.get(slug="added-in-admin")
    assert added.published_at is not None and added.version == 1
    assert [hit.story.pk for hit in search.search("wqpzk").hits] == [added.pk]


@pytest.mark.django_db
def test_story_rule_links_are_read_only_in_the_admin(curator_client, make_story):
    """The links file owns the links: an admin edit would be overwritten by the next load."""
    from incidents.models import Rule, StoryRule

    story = make_story()
    rule = Rule.objects.create(
        rule_id="KB033", slug="dns-memory-limit-low", title="DNS", severity="warning"
    )
    link = StoryRule.objects.create(story=story, rule=rule, note="From the links file.")
    change = reverse("admin:incidents_storyrule_change", args=[link.pk])
    response = curator_client.post(change, {"story": story.pk, "rule": rule.pk, "note": "Edited."})
    assert response.status_code == 403
    assert curator_client.get(reverse("admin:incidents_storyrule_add")).status_code == 403
    link.refresh_from_db()
    assert link.note == "From the links file."
    page = curator_client.get(reverse("admin:incidents_story_change", args=[story.pk]))
    assert "From the links file." in page.content.decode()
    assert "story_rules.yaml" in page.content.decode()
    listing = curator_client.get(reverse("admin:incidents_storyrule_changelist"))
    assert "incidents/data/story_rules.yaml" in listing.content.decode()


@pytest.mark.django_db
def test_renaming_a_technology_in_the_admin_reindexes_its_stories_and_refreshes_cached_hits(
    curator_client, make_story, vocabulary, search_index, django_capture_on_commit_callbacks
):
    from incidents import search

    coredns = vocabulary["coredns"]
    story = make_story(title="Resolver melted down", technologies=[coredns])
    search_index()
    assert [t.name for t in search.search("resolver").hits[0].story.technologies.all()] == [
        "CoreDNS"
    ]  # now in this worker's hit cache
    url = reverse("admin:incidents_technology_change", args=[coredns.pk])
    data = {"name": "CoreDNS server", "slug": "coredns", "aliases": '["kzvdns"]', "description": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    assert [hit.story.pk for hit in search.search("kzvdns").hits] == [story.pk]
    hit = search.search("resolver").hits[0]
    assert [t.name for t in hit.story.technologies.all()] == ["CoreDNS server"]

    delete = reverse("admin:incidents_technology_delete", args=[coredns.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert curator_client.post(delete, {"post": "yes"}).status_code == 302
    assert search.search("kzvdns").total == 0
    assert list(search.search("resolver").hits[0].story.technologies.all()) == []
