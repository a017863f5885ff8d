"""Shared fixtures: personas (curator / reader / outsider) and small stories."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from incidents import services
from incidents.models import Category, Story, Technology


@pytest.fixture
def vocabulary(db):
    net = Category.objects.create(slug="networking", name="Networking")
    dns = Category.objects.create(slug="dns", name="DNS")
    coredns = Technology.objects.create(slug="coredns", name="CoreDNS", aliases=["core-dns"])
    oom = Technology.objects.create(
        slug="oom-killer", name="OOM killer", aliases=["OOMKilled", "OOM", "exit code 137"]
    )
    return {"networking": net, "dns": dns, "coredns": coredns, "oom-killer": oom}


@pytest.fixture
def make_story(db):
    counter = {"n": 0}

    def make(**overrides) -> Story:
        counter["n"] += 1
        n = counter["n"]
        data = {
            "slug": f"story-{n}",
            "title": f"Story number {n}",
            "organisation": "Example Org",
            "source_url": f"https://example.com/post-{n}",
            "source_kind": "blog-post",
            "year": 2020,
            "platform": "gke",
            "summary": "Pods could not resolve names because CoreDNS ran out of memory.",
            "symptom": "Timeouts resolving service names; NXDOMAIN spikes.",
            "contributing_factors": "CoreDNS had a low memory limit.",
            "fix": "Raised the limit and added an autoscaler.",
            "detection": 'Alert on `coredns_dns_responses_total{rcode="SERVFAIL"}`.',
            "impact": "Partial outage for 30 minutes.",
            "status": "published",
            "provenance": "full",
        }
        data.update(overrides)
        return services.story_create(data=data)

    return make


@pytest.fixture
def curator(db):
    user = User.objects.create_user("curator", password="pw-curator-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="incidents"))
    return user


@pytest.fixture
def outsider(db):
    return User.objects.create_user("outsider", password="pw-outsider-123")


@pytest.fixture(autouse=True)
def _generous_web_check_rate(settings):
    """Page tests post many checks from one test client address (and share Redis in CI): the
    rate-limit test sets its own tight rate."""
    settings.KB_WEB_CHECK_THROTTLE = "100000/minute"
    settings.KB_AUTH_FAILURE_THROTTLE = "100000/minute"


@pytest.fixture(autouse=True)
def _search_index_dir(tmp_path_factory, settings):
    """Every test gets its own (empty) Whoosh index directory: tests never touch var/search.
    Per-process vocabulary caches (aliases, facet labels) are cleared: each test has its own DB."""
    from incidents.search import clear_caches

    settings.KB_SEARCH_INDEX_DIR = tmp_path_factory.mktemp("search-index")
    clear_caches()


@pytest.fixture
def search_index(db):
    """Call it after creating stories to (re)build the search index from the test database.

    Inside a test transaction on_commit hooks never fire; alternatively wrap writes in
    `with django_capture_on_commit_callbacks(execute=True):` to exercise the real hooks.
    """
    from incidents import search

    return search.rebuild
