"""The k8s.af importer: good, malformed and repeated input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from incidents.k8saf import parse
from incidents.models import Story

# The k8s.af list as published on 2020-08-23 (a copy of ../shared/k8s-af/README.md).
README = Path(__file__).resolve().parent / "fixtures" / "k8s-af-2020-README.md"
SAMPLE = """\
# Kubernetes Failure Stories

* [Kubernetes Load Balancer Configuration - Beware when draining nodes - DevOps Hof - blog post 2019](https://www.devops-hof.de/lb/)
    * involved: GCP Load Balancer, `externalTrafficPolicy`, ingress-nginx
    * impact: total ingress traffic outage
* [How a Production Outage Was Caused Using Kubernetes Pod Priorities - Grafana Labs 2019](https://grafana.com/blog/prio/)
    * involved: Pod priorities
    * impact: cascading Pod evictions
* [Oh Sh\\*t! The Config Changed! - Pusher - KubeCon Barcelona 2019](https://www.youtube.com/watch?v=8P7)
* [no url here - Org - blog post 2019]
* [Missing year - Org - blog post](https://example.com/noyear)
    * impact: dangling sub-bullet after a broken entry
"""


def test_titles_with_dashes_keep_their_dashes_and_the_org_is_found():
    entries, _ = parse(SAMPLE)
    lb, grafana, pusher = entries
    assert lb.title == "Kubernetes Load Balancer Configuration - Beware when draining nodes"
    assert (lb.organisation, lb.year, lb.source_kind) == ("DevOps Hof", 2019, "blog-post")
    assert lb.involved == ["GCP Load Balancer", "externalTrafficPolicy", "ingress-nginx"]
    assert lb.impact == "total ingress traffic outage"
    assert (grafana.organisation, grafana.year, grafana.medium) == ("Grafana Labs", 2019, "")
    assert pusher.title == "Oh Sh*t! The Config Changed!"
    assert pusher.source_kind == "talk"


def test_malformed_entries_are_reported_with_line_numbers_and_parsing_goes_on():
    entries, problems = parse(SAMPLE)
    assert len(entries) == 3
    assert [p.line for p in problems] == [10, 11, 12]
    assert "no year" in problems[1].message


def test_the_real_listing_yields_all_fifty_stories():
    entries, problems = parse(README.read_text(encoding="utf-8"))
    assert problems == []
    assert len(entries) == 50
    by_url = {e.url: e for e in entries}
    webhook = by_url["https://blog.jetstack.io/blog/gke-webhook-outage"]
    assert (webhook.organisation, webhook.year) == ("Jetstack", 2019)
    assert webhook.involved == ["ValidatingWebhookConfiguration", "GKE node auto-repair"]
    assert webhook.impact.startswith("prolonged downtime of non-prod environment")
    dex = by_url["https://pieterlange.github.io/failure-stories/2019-06.dex.html"]
    assert dex.organisation == "anonymous Fullstaq client"
    assert dex.source_kind == "slides"
    assert all(e.involved and e.impact for e in entries)


@pytest.mark.django_db
def test_command_creates_drafts_then_is_idempotent(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(SAMPLE, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_k8saf", str(path), stdout=out, stderr=err)
    assert Story.objects.count() == 3
    assert set(Story.objects.values_list("status", flat=True)) == {"draft"}
    assert "3 created, 0 skipped, 3 malformed" in out.getvalue()
    assert "line 10" in err.getvalue()

    out = io.StringIO()
    call_command("import_k8saf", str(path), stdout=out, stderr=io.StringIO())
    assert Story.objects.count() == 3
    assert "0 created, 3 skipped" in out.getvalue()


@pytest.mark.django_db
def test_command_leaves_known_stories_untouched(tmp_path, make_story):
    story = make_story(source_url="https://grafana.com/blog/prio/", title="Curated title")
    path = tmp_path / "README.md"
    path.write_text(SAMPLE, encoding="utf-8")
    call_command("import_k8saf", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    story.refresh_from_db()
    assert story.title == "Curated title"
    assert story.version == 1


@pytest.mark.django_db
def test_command_reads_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(SAMPLE))
    call_command("import_k8saf", "-", stdout=io.StringIO(), stderr=io.StringIO())
    assert Story.objects.count() == 3


@pytest.mark.django_db
def test_command_fails_cleanly_on_a_missing_file(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_k8saf", str(tmp_path / "nope.md"))
