"""/healthz and /readyz: what load balancers and Kubernetes probes rely on."""

from __future__ import annotations

import pytest

from incidents import health


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query here would raise, so a database outage cannot fail liveness.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_search_answer(client, search_index):
    search_index()
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "search": "ok",
    }
    assert "no-store" in response["Cache-Control"]


def _broken() -> None:
    raise ConnectionError("secret-host:5432 refused")


@pytest.mark.django_db
@pytest.mark.parametrize("failing", ["database", "search"])
def test_readyz_is_503_and_names_the_failed_check(client, monkeypatch, search_index, failing):
    search_index()
    monkeypatch.setitem(health.CHECKS, failing, _broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"][failing]["status"] == "fail"
    other = ({"database", "search"} - {failing}).pop()
    assert body["checks"][other]["status"] == "ok"
    # The reason goes to the log, not to whoever can reach the probe.
    assert "secret-host" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_is_503_when_the_search_index_is_missing(client, monkeypatch):
    monkeypatch.setattr(health.search, "index_status", lambda: {"exists": False, "stale": 0})
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["search"]["status"] == "fail"


@pytest.mark.django_db
def test_readyz_is_503_when_searching_fails(client, monkeypatch):
    def broken_search(*args, **kwargs):
        raise OSError("index segment unreadable")

    monkeypatch.setattr(health.search, "search", broken_search)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["search"]["status"] == "fail"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_refuse_writes(client, path):
    assert client.post(path).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https(client, settings, search_index, path):
    """The kubelet probes over plain HTTP; a redirect would pass without checking anything."""
    search_index()
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(path).status_code == 200
    assert client.get("/stories/").status_code == 301


@pytest.mark.django_db
def test_readyz_names_the_cause_when_the_index_cannot_answer(client, monkeypatch, search_index):
    search_index()

    def broken_search(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(health.search, "search", broken_search)
    response = client.get("/readyz")
    assert response.status_code == 503
    cause = response.json()["checks"]["search"]["cause"]
    assert "TypeError" in cause and "rebuild_search_index --check" in cause
    assert "NoneType" not in cause


@pytest.mark.django_db
def test_readyz_is_ready_with_a_suggested_draft_in_a_rebuilt_index(client, make_story):
    from incidents import search, services

    make_story(slug="dns")
    services.story_suggest(url="https://example.org/x", title="Outage", what_happened="broke")
    search.rebuild()
    assert client.get("/readyz").status_code == 200
