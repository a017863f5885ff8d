"""Fixtures for the page tests: a small published dataset with vocabulary, a rule and an index."""

from __future__ import annotations

import re

import pytest

from incidents.models import Rule, StoryRule


@pytest.fixture
def dataset(vocabulary, make_story, search_index):
    """Three published stories and a draft, a rule linked to one of them, a built index."""
    dns = make_story(
        slug="bluematador-node-oom",
        title="CoreDNS ran out of memory",
        organisation="Blue Matador",
        year=2019,
        platform="gke",
        categories=[vocabulary["dns"], vocabulary["networking"]],
        technologies=[vocabulary["coredns"]],
    )
    oom = make_story(
        slug="oom-at-acme",
        title="OOMKilled batch jobs took down the nodes",
        organisation="Acme",
        year=2021,
        platform="eks",
        summary="Batch pods without memory limits were OOMKilled and starved the kubelet.",
        symptom="Nodes went NotReady; pods evicted.",
        categories=[vocabulary["networking"]],
        technologies=[vocabulary["oom-killer"]],
    )
    other = make_story(
        slug="ingress-502",
        title="Ingress returned 502 during deploys",
        organisation="Example Shop",
        year=2021,
        platform="aks",
        summary="Endpoints were removed after the pods stopped, so the ingress sent traffic to "
        "dead pods.",
        symptom="Spikes of HTTP 502 on every rollout.",
    )
    draft = make_story(slug="secret-draft", title="Unpublished draft story", status="draft")
    rule = Rule.objects.create(
        rule_id="KB002",
        slug="memory-limits-missing",
        title="Container without memory request or limit",
        severity="warning",
    )
    StoryRule.objects.create(story=oom, rule=rule, note="The batch pods had no memory limit.")
    search_index()
    return {"dns": dns, "oom": oom, "other": other, "draft": draft, "rule": rule}


INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def assert_csp_clean(html: str) -> None:
    """No inline styles, inline scripts or event-handler attributes (CSP without unsafe-inline),
    and no assets from another origin."""
    assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html).group(0)
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html).group(0)
    assert not re.search(r'<(script|img)[^>]+src="(https?:)?//', html)
    assert not re.search(r'<link[^>]+rel="(stylesheet|icon)"[^>]+href="(https?:)?//', html)
