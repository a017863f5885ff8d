"""The story page: sections, tags, source, provenance, rules, related stories, sharing."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import assert_csp_clean


@pytest.mark.django_db
def test_story_page_has_every_section_as_a_heading(client, dataset):
    body = client.get("/stories/oom-at-acme/").content.decode()
    for heading in ("Summary", "Symptom", "Contributing factors", "Fix", "Detection", "Impact"):
        assert f">{heading}</h2>" in body


@pytest.mark.django_db
def test_story_page_links_technologies_categories_and_source(client, dataset):
    story = dataset["dns"]
    body = client.get(story.get_absolute_url()).content.decode()
    assert 'href="/technologies/coredns/"' in body
    assert 'href="/categories/dns/"' in body
    assert f'href="{story.source_url}"' in body
    assert "Blog post, 2019" in body
    assert "Whole write-up read" in body


@pytest.mark.django_db
def test_story_page_says_what_was_read_where_and_which_date_is_which(client, make_story):
    story = make_story(
        slug="partly-read",
        provenance="partial",
        read_parts="opening and the timeline",
        read_from="https://github.com/example/copy",
        read_on="2026-12-05",
        year=2019,
        listing_year=2020,
        published_date="2019-08-05",
        incident_date="2019-07-30",
        facts=[{"claim": "26 minutes", "where": "postmortem header"}],
    )
    body = client.get(story.get_absolute_url()).content.decode()
    assert "Part of the write-up read: opening and the timeline" in body
    assert 'href="https://github.com/example/copy"' in body
    assert re.search(r"read on 5 Dec(ember)? 2026", body)
    assert re.search(r"published 5 Aug(ust)? 2019", body)
    assert "the k8s.af listing says 2020" in body
    assert "Incident date</dt>" in body and re.search(r"30 Jul(y)? 2019", body)
    assert "1 fact anchored to the source" in body


@pytest.mark.django_db
def test_story_page_lists_linked_rules_with_severity_and_a_check_action(client, dataset):
    body = client.get("/stories/oom-at-acme/").content.decode()
    assert 'href="/rules/KB002/"' in body
    assert "sev--warning" in body
    assert "The batch pods had no memory limit." in body  # the curated note
    assert 'href="/check/?story=oom-at-acme"' in body


@pytest.mark.django_db
def test_story_page_lists_the_rules_the_links_file_gives_it_once_loaded(client, dataset):
    """The links file owns the links; pages read the rows load_stories mirrors from it."""
    from django.utils.html import escape

    from incidents import services
    from incidents.rules.links import read_links

    [link] = [x for x in read_links() if (x.story, x.rule) == ("bluematador-node-oom", "KB002")]
    url = "/stories/bluematador-node-oom/"
    assert 'href="/rules/KB002/"' not in client.get(url).content.decode()  # not loaded yet
    services.story_rule_links_sync(
        links=[{"story": x.story, "rule": x.rule, "note": x.note} for x in [link]]
    )
    body = client.get(url).content.decode()
    assert 'href="/rules/KB002/"' in body
    assert escape(link.note) in body


@pytest.mark.django_db
def test_story_page_has_opengraph_tags_and_a_canonical_permalink(client, dataset):
    body = client.get("/stories/oom-at-acme/").content.decode()
    assert '<meta property="og:title" content="OOMKilled batch jobs took down the nodes' in body
    assert '<meta property="og:description" content="Batch pods without memory limits' in body
    assert '<meta property="og:url" content="http://testserver/stories/oom-at-acme/">' in body
    assert '<link rel="canonical" href="http://testserver/stories/oom-at-acme/">' in body


@pytest.mark.django_db
def test_story_page_shows_related_stories(client, dataset):
    body = client.get("/stories/bluematador-node-oom/").content.decode()
    assert "Related stories" in body
    assert dataset["oom"].title in body  # shares the networking category / memory terms


@pytest.mark.django_db
def test_draft_story_is_not_found(client, dataset):
    assert client.get("/stories/secret-draft/").status_code == 404


@pytest.mark.django_db
def test_story_markdown_is_sanitised_and_page_is_csp_clean(client, make_story):
    story = make_story(summary='Hi <script>alert(1)</script> <img src=x onerror="alert(2)">')
    body = client.get(story.get_absolute_url()).content.decode()
    assert "<script>alert" not in body and "onerror" not in body
    assert_csp_clean(body)
