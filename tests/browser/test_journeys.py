"""What people do in the browser: search and read, check manifests, curate, suggest."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from incidents.models import Rule, Story, StoryRule
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: app
          image: example/api:1.0
"""


@pytest.fixture
def stories(vocabulary, make_story, search_index):
    dns = make_story(
        slug="coredns-oom",
        title="CoreDNS ran out of memory",
        platform="gke",
        categories=[vocabulary["dns"]],
        technologies=[vocabulary["coredns"]],
    )
    node = make_story(
        slug="bluematador-node-oom",
        title="Nodes died of memory pressure",
        organisation="Blue Matador",
        platform="eks",
        summary="A pod without a memory limit used up the node's memory; CoreDNS died too.",
        technologies=[vocabulary["oom-killer"]],
    )
    rule = Rule.objects.create(
        rule_id="KB002", slug="memory-limits-missing", title="No memory limit", severity="warning"
    )
    StoryRule.objects.create(story=node, rule=rule, note="No memory limit on the pod.")
    search_index()
    return {"dns": dns, "node": node}


def test_search_with_a_filter_and_open_a_story(page, stories):
    page.goto("/")
    page.keyboard.press("/")  # focuses the search box
    page.keyboard.type("memory")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=memory"))
    assert page.locator(".story-item").count() == 2
    page.get_by_role("checkbox", name="EKS").click()  # facets apply on change
    page.wait_for_url(re.compile(r"platform=eks"))
    assert page.locator(".story-item").count() == 1
    assert page.locator(".active-filters").get_by_text("EKS").is_visible()
    screenshot(page, "search-filtered")
    page.get_by_role("link", name="Nodes died of memory pressure").click()
    page.wait_for_url("**/stories/bluematador-node-oom/")
    assert page.get_by_role("heading", level=1).inner_text() == "Nodes died of memory pressure"
    page.go_back()
    page.wait_for_url(re.compile(r"platform=eks"))  # the search is in the URL: back restores it
    assert page.locator(".story-item").count() == 1
    assert page.console_errors == []


def test_run_a_manifest_check_and_follow_a_finding_to_its_story(page, stories):
    page.goto("/check/")
    page.get_by_label("Paste manifests").fill(DEPLOYMENT)
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_selector("#results")
    group = page.locator(".object-group", has_text="Deployment/api")
    assert group.locator(".finding", has_text="KB002").count() == 2  # no limit, no request
    screenshot(page, "check-results")
    group.get_by_role("link", name="Nodes died of memory pressure").first.click()
    page.wait_for_url("**/stories/bluematador-node-oom/")
    assert page.locator("#rules").get_by_text("KB002").is_visible()
    assert page.console_errors == []


def test_curator_edits_and_publishes_a_story_then_finds_it(page, stories, curator):
    draft = Story.objects.create(
        slug="draft-webhook",
        title="Webhook outage",
        organisation="Example",
        source_url="https://example.com/webhook",
        year=2022,
        status="draft",
    )
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("pw-curator-123")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/incidents/story/{draft.pk}/change/")
    page.locator("#id_summary").fill("A failing admission webhook blocked every zebrafish deploy.")
    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/incidents/story/")
    assert Story.objects.get(pk=draft.pk).status == "published"
    page.goto("/search/?q=zebrafish")
    result = page.get_by_role("link", name="Webhook outage")
    assert result.is_visible()
    screenshot(page, "curator-published-found")
    result.click()
    page.wait_for_url("**/stories/draft-webhook/")


def test_suggest_form_creates_a_draft(page, db):
    cache.clear()
    page.goto("/suggest/")
    page.get_by_label("Link to the write-up").fill("https://blog.example.net/postmortem")
    page.get_by_label("Title").fill("Our etcd ran out of disk")
    page.get_by_label("What happened?").fill("etcd hit its quota and the API went read-only.")
    assert not page.get_by_label("Leave this field empty").is_visible()  # the honeypot
    page.get_by_role("button", name="Send suggestion").click()
    page.wait_for_url("**/suggest/thanks/")
    screenshot(page, "suggest-thanks")
    story = Story.objects.get(source_url="https://blog.example.net/postmortem")
    assert story.status == "draft" and story.title == "Our etcd ran out of disk"
