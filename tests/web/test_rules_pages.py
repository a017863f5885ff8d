"""The rules catalog and rule pages, generated from the registry metadata."""

from __future__ import annotations

import pytest

from incidents.rules.registry import REGISTRY
from tests.web.conftest import assert_csp_clean


@pytest.mark.django_db
def test_catalog_lists_every_registered_rule_with_severity(client, dataset):
    body = client.get("/rules/").content.decode()
    for rule in REGISTRY.all():
        assert f'href="/rules/{rule.id}/"' in body
    assert "sev--warning" in body
    assert 'href="/stories/oom-at-acme/"' in body  # the story behind KB002


@pytest.mark.django_db
def test_catalog_names_three_stories_per_rule_and_counts_the_rest(client, dataset, make_story):
    from incidents import pagecache
    from incidents.models import Rule, StoryRule

    def kb002_row() -> str:
        rows = client.get("/rules/").content.decode().split("<tr>")
        return next(r for r in rows if "/rules/KB002/" in r)

    before = kb002_row().count('href="/stories/')
    assert 0 < before <= 3 and 'class="muted">+' not in kb002_row()
    rule = Rule.objects.get(rule_id="KB002")
    for n in range(4):
        story = make_story(slug=f"more-oom-{n}", organisation=f"Org {n}", year=2020 + n)
        StoryRule.objects.create(story=story, rule=rule, note="Another one.")
    pagecache.bump()  # links written without the services
    row = kb002_row()
    assert row.count('href="/stories/') == 3
    assert f'<span class="muted">+{before + 4 - 3}</span>' in row


@pytest.mark.django_db
def test_rule_page_has_what_why_fix_examples_and_suppression(client, dataset):
    rule = REGISTRY.get("KB002")
    body = client.get("/rules/KB002/").content.decode()
    assert rule.title in body
    for heading in (
        "What it checks",
        "Why it matters",
        "How to fix it",
        "Examples",
        "Silencing it",
    ):
        assert f">{heading}</h2>" in body
    assert "limits:" in body  # the corrected snippet
    assert "Fails: no resources" in body and "Passes: limit set" in body  # fixture examples
    assert "kb.k8s.af/ignore: &quot;KB002: " in body
    assert_csp_clean(body)


@pytest.mark.django_db
def test_a_rule_without_a_story_shows_the_public_reports_behind_it(client, dataset):
    rule = REGISTRY.get("KB038")
    assert not rule.stories and rule.reports
    body = client.get("/rules/KB038/").content.decode()
    assert ">Public incident reports</h3>" in body
    for url in rule.reports:
        assert f'href="{url}"' in body


@pytest.mark.django_db
def test_rule_page_shows_the_stories_as_evidence_with_notes(client, dataset):
    body = client.get("/rules/KB002/").content.decode()
    assert "The stories behind it" in body
    assert 'href="/stories/oom-at-acme/"' in body
    assert "The batch pods had no memory limit." in body


@pytest.mark.django_db
def test_rule_page_and_story_page_show_the_same_links(client, dataset):
    """One source: the loaded links. A story the links file names but this database has no
    link row for (bluematador-node-oom, for KB002) is on neither page."""
    rule_page = client.get("/rules/KB002/").content.decode()
    assert 'href="/stories/bluematador-node-oom/"' not in rule_page
    assert (
        'href="/rules/KB002/"' not in client.get("/stories/bluematador-node-oom/").content.decode()
    )
    story_page = client.get("/stories/oom-at-acme/").content.decode()
    assert 'href="/rules/KB002/"' in story_page
    assert "The batch pods had no memory limit." in story_page


@pytest.mark.django_db
def test_rule_by_slug_or_lowercase_id_redirects_to_the_canonical_page(client, dataset):
    response = client.get("/rules/memory-limits-missing/")
    assert response.status_code == 301 and response["Location"] == "/rules/KB002/"
    assert client.get("/rules/kb002/")["Location"] == "/rules/KB002/"


@pytest.mark.django_db
def test_unknown_rule_is_404(client, dataset):
    assert client.get("/rules/KB999/").status_code == 404


@pytest.mark.django_db
def test_runtime_rules_show_their_expression(client, db, monkeypatch):
    from incidents.rules.base import RuntimeRule, Severity
    from incidents.rules.registry import Registry
    from incidents.views import rulebook

    rule = RuntimeRule(
        id="KBP900",
        slug="test-throttling",
        title="CPU throttling high",
        severity=Severity.WARNING,
        checks="Containers throttled most of the time.",
        why="Throttling adds latency.",
        fix="Raise or remove the CPU limit.",
        fix_example="resources: {}",
        references=("https://example.com",),
        stories=("oom-at-acme",),
        expr="rate(container_cpu_cfs_throttled_periods_total[5m]) > 0.5",
    )
    registry = Registry()
    registry.register(rule)
    monkeypatch.setattr(rulebook, "registry", lambda: registry)
    body = client.get("/rules/KBP900/").content.decode()
    assert "Alert expression" in body and rule.alert_name in body
    assert "container_cpu_cfs_throttled_periods_total" in body
    assert "Runtime alerts" in client.get("/rules/").content.decode()
