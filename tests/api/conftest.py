"""API fixtures: a private search index, generous throttles, a curator token."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from incidents import search
from incidents.models import Rule, StoryRule
from incidents.services import api_token_create


@pytest.fixture(autouse=True)
def api_settings(settings, tmp_path, db):
    settings.KB_SEARCH_INDEX_DIR = tmp_path / "search"
    settings.KB_API_THROTTLE_ANON = "100000/minute"
    settings.KB_API_THROTTLE_TOKEN = "100000/minute"
    settings.SITE_URL = "https://kb.example"
    call_command("createcachetable", verbosity=0)
    return settings


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def curator_token(curator) -> str:
    return api_token_create(user=curator, name="tests")[1]


@pytest.fixture
def curator_client(curator_token) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {curator_token}")
    return c


@pytest.fixture
def stories(vocabulary, make_story):
    """Three published stories and a draft, indexed; the DNS one is linked to rule KB033."""
    dns = make_story(
        slug="dns-outage",
        title="CoreDNS ran out of memory",
        organisation="Zalando",
        year=2019,
        categories=[vocabulary["dns"]],
        technologies=[vocabulary["coredns"]],
    )
    oom = make_story(
        slug="oom-storm",
        title="OOMKilled pods everywhere",
        organisation="Acme",
        year=2021,
        platform="eks",
        summary="Memory limits were too low and the kernel OOM killer stopped the app.",
        symptom="Pods restarted with exit code 137 (OOMKilled).",
        fix="Raised memory limits after measuring usage.",
        technologies=[vocabulary["oom-killer"]],
    )
    ingress = make_story(
        slug="ingress-502",
        title="Ingress returned 502 during deploys",
        organisation="Beta",
        year=2018,
        source_kind="postmortem",
        summary="The load balancer kept sending traffic to terminating pods.",
        symptom="502 Bad Gateway spikes during every rollout.",
        fix="Added a preStop sleep and a readiness gate.",
        categories=[vocabulary["networking"]],
    )
    draft = make_story(slug="draft-story", title="Unfinished draft", status="draft")
    rule = Rule.objects.create(
        rule_id="KB033", slug="dns-memory-limit-low", title="DNS memory limit", severity="warning"
    )
    StoryRule.objects.create(story=dns, rule=rule, note="A higher limit would have held.")
    search.rebuild()
    return {"dns": dns, "oom": oom, "ingress": ingress, "draft": draft}
