"""Security headers, the strict Content-Security-Policy (and pages that work under it), the
request log, and `check --deploy` with the documented production environment."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from incidents.middleware import (
    JsonFormatter,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
    client_address,
)

ROOT = Path(__file__).resolve().parents[1]
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


# Third-party admin templates with a style attribute the policy blocks. Cosmetic only (the
# attribute is ignored; nothing stops working), so accepted rather than loosening style-src.
ADMIN_COSMETIC_STYLES = {
    "<p style='border-top: 0'>",  # django-simple-history's object history page
}


class InlineCodeFinder(HTMLParser):
    """Collects everything a CSP without 'unsafe-inline' would block: inline scripts, on*
    handlers and javascript: URLs (which break behaviour), <style> blocks and style attributes
    (which only lose their styling)."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.styles: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        script_type = (attributes.get("type") or "").lower()
        if tag == "script" and "src" not in attributes and script_type not in DATA_SCRIPT_TYPES:
            self._in_inline_script = True
        if tag == "style":
            self.styles.append("<style> block")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.styles.append(f"<{tag} style={value!r}>")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:...>")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_code(html: str, cosmetic_allowed: set[str] = frozenset()) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems + [s for s in finder.styles if s not in cosmetic_allowed]


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/stories/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_hsts_is_sent_over_https_only(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    assert "Strict-Transport-Security" not in client.get("/stories/")
    secure = client.get("/stories/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_view_can_set_its_own_policy():
    middleware = SecurityHeadersMiddleware(
        lambda request: HttpResponse(headers={"Content-Security-Policy": "sandbox"})
    )
    response = middleware(RequestFactory().get("/"))
    assert response["Content-Security-Policy"] == "sandbox"


@pytest.mark.django_db
def test_public_pages_need_no_inline_code(client, make_story):
    story = make_story(summary='Read <script>alert(1)</script> and <b style="x">this</b>.')
    for path in ["/", "/stories/", f"/stories/{story.slug}/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path


@pytest.mark.django_db
def test_admin_pages_work_under_the_policy(admin_client, make_story, settings):
    """Django 5.2's admin loads every script from a file; the curation pages (list, change form
    with the live preview, history) must keep it that way."""
    story = make_story()
    base = "/" + settings.ADMIN_URL
    paths = [
        base,
        f"{base}incidents/story/",
        f"{base}incidents/story/add/",
        f"{base}incidents/story/{story.pk}/change/",
        f"{base}incidents/story/{story.pk}/history/",
    ]
    for path in paths:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert inline_code(response.content.decode(), ADMIN_COSMETIC_STYLES) == [], path


def test_admin_login_needs_no_inline_code(client, settings, db):
    response = client.get("/" + settings.ADMIN_URL + "login/")
    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []


def test_the_admin_lives_on_the_configured_path():
    code = (
        "import django; django.setup(); from django.urls import reverse; "
        "print(reverse('admin:index'))"
    )
    env = {**os.environ, "DEBUG": "true", "ADMIN_URL": "/desk-7f3/"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/desk-7f3/"


# --- request log --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_request_is_logged_once_with_timing_and_an_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="kb.request"):
        response = client.get("/stories/?q=x", HTTP_X_REQUEST_ID="abc-123")
    records = [r for r in caplog.records if r.name == "kb.request"]
    assert len(records) == 1
    fields = records[0].http
    assert fields["request_id"] == "abc-123" == response["X-Request-ID"]
    assert fields["method"] == "GET" and fields["path"] == "/stories/"
    assert fields["status"] == 200
    assert fields["duration_ms"] >= 0
    assert fields["bytes"] == len(response.content)
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["logger"] == "kb.request" and line["status"] == 200 and line["level"] == "info"


@pytest.mark.django_db
def test_a_hostile_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b" + "y" * 100)
    assert len(response["X-Request-ID"]) == 32
    assert "Set-Cookie" not in response["X-Request-ID"]


def test_errors_are_logged_as_errors_with_status_500(caplog):
    def boom(request):
        raise RuntimeError("boom")

    middleware = RequestLogMiddleware(boom)
    with caplog.at_level(logging.INFO, logger="kb.request"), pytest.raises(RuntimeError):
        middleware(RequestFactory().get("/x"))
    (record,) = [r for r in caplog.records if r.name == "kb.request"]
    assert record.levelno == logging.ERROR and record.http["status"] == 500


def test_head_responses_carry_no_body(client, db):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.9"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (1, "", "10.0.0.9"),
        (2, "6.6.6.6, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
    ],
)
def test_the_client_address_ignores_what_clients_prepend(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request, proxies) == expected


# --- check --deploy -----------------------------------------------------------------------------


def production_env() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    documented = production_env()
    assert documented["DEBUG"] == "false" and documented["KB_HTTPS"] == "true"
    key_file = tmp_path / "secret-key"
    key_file.write_text(secrets.token_urlsafe(50))
    db_file = tmp_path / "database-url"
    db_file.write_text(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "DATABASE_", "REDIS"))}
    env.update(documented)
    env.update(
        {
            "SECRET_KEY_FILE": str(key_file),
            "DATABASE_URL_FILE": str(db_file),
            # The security settings are what is checked here; the database and cache are
            # swapped for local ones so the check runs anywhere.
            "KB_SEARCH_BACKEND": "whoosh",
            "REDIS_URL": "",
            "KB_VAR_DIR": str(tmp_path / "var"),
        }
    )
    commands = [
        ["migrate", "--noinput", "-v0"],
        ["rebuild_search_index"],
        ["check", "--deploy", "--fail-level", "INFO"],
    ]
    for command in commands:
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
