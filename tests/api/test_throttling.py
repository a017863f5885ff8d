"""Throttling per anonymous client and per token; forged X-Forwarded-For earns nothing."""

from __future__ import annotations

import random

import pytest
from rest_framework.test import APIClient

from incidents.services import api_token_create


@pytest.fixture
def tight(api_settings):
    api_settings.KB_API_THROTTLE_ANON = "3/minute"
    api_settings.KB_API_THROTTLE_TOKEN = "5/minute"
    return api_settings


def random_ip() -> str:
    """A fresh client address per test, so counts left in a shared cache never interfere."""
    return "10." + ".".join(str(random.randrange(1, 255)) for _ in range(3))


def statuses(client, n, **headers) -> list[int]:
    return [client.get("/api/v1/rules/", **headers).status_code for _ in range(n)]


def test_anonymous_clients_get_429_with_retry_after(tight):
    client = APIClient(REMOTE_ADDR=random_ip())
    assert statuses(client, 3) == [200, 200, 200]
    response = client.get("/api/v1/rules/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "throttled"


def test_forged_x_forwarded_for_earns_no_extra_quota(tight):
    client = APIClient(REMOTE_ADDR=random_ip())
    codes = [
        client.get("/api/v1/rules/", HTTP_X_FORWARDED_FOR=random_ip()).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_behind_one_proxy_the_last_hop_is_the_client(tight):
    tight.KB_NUM_PROXIES = 1
    proxy, alice, bob = random_ip(), random_ip(), random_ip()
    client = APIClient(REMOTE_ADDR=proxy)
    forged = f"{random_ip()}, {alice}"
    assert statuses(client, 3, HTTP_X_FORWARDED_FOR=forged) == [200, 200, 200]
    assert statuses(client, 1, HTTP_X_FORWARDED_FOR=f"{random_ip()}, {alice}") == [429]
    assert statuses(client, 1, HTTP_X_FORWARDED_FOR=bob) == [200]


def test_each_token_has_its_own_quota(tight, curator):
    client = APIClient(REMOTE_ADDR=random_ip())
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=curator, name='a')[1]}")
    assert statuses(client, 6) == [200] * 5 + [429]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=curator, name='b')[1]}")
    assert statuses(client, 1) == [200]


def test_failed_authentications_are_throttled_per_client(api_settings, curator):
    api_settings.KB_AUTH_FAILURE_THROTTLE = "3/minute"
    guesser = APIClient(REMOTE_ADDR=random_ip())
    bad = {"HTTP_AUTHORIZATION": "Bearer kb_aaaaaaaa_guessed"}
    assert statuses(guesser, 3, **bad) == [401, 401, 401]
    blocked = guesser.get("/api/v1/rules/", **bad)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    # The window's failures are spent: even a valid token from that address waits.
    valid = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=curator, name='t')[1]}"}
    assert guesser.get("/api/v1/rules/", **valid).status_code == 429
    # Another client, and anonymous requests from the same one, are not affected.
    assert APIClient(REMOTE_ADDR=random_ip()).get("/api/v1/rules/", **valid).status_code == 200
    assert guesser.get("/api/v1/rules/").status_code == 200
