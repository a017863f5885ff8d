"""404 and 500 pages in the site's style; Django's DEBUG pages readable under the CSP; favicon."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.urls import include, path

from incidents.middleware import debug_page_policy


def _boom(request):
    raise RuntimeError("a bug")


# This module is also the URLconf of the 500 tests: the site plus a view that fails.
urlpatterns = [path("boom/", _boom), path("", include("kb.urls"))]


@pytest.mark.django_db
def test_a_missing_page_is_the_sites_404_with_a_way_on(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'class="site-header"' in body and "/static/css/base.css" in body
    assert "Page not found" in body and "<code>/no-such-page/</code>" in body
    assert 'role="search"' in body
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_server_error_is_the_sites_500_page(client, settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body and "/static/css/base.css" in body
    assert "a bug" not in body
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_with_debug_on_djangos_error_pages_may_use_their_inline_styles(client, settings):
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    for url, status in [("/no-such-page/", 404), ("/boom/", 500)]:
        response = client.get(url)
        assert response.status_code == status
        policy = response["Content-Security-Policy"]
        assert "style-src 'self' 'unsafe-inline'" in policy
        assert "script-src 'self' 'unsafe-inline'" in policy
        assert "frame-ancestors 'none'" in policy
    # Our own pages keep the strict policy, DEBUG or not.
    assert "unsafe-inline" not in client.get("/rules/")["Content-Security-Policy"]


def test_debug_page_policy_adds_unsafe_inline_only_to_scripts_and_styles():
    relaxed = debug_page_policy("default-src 'self'; script-src 'self'; img-src 'self' data:")
    assert relaxed == (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'"
    )


def test_favicon_ico_leads_to_the_logo(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/img/logo.svg"
    assert "max-age=86400" in response["Cache-Control"]
    assert finders.find("img/logo.svg")
