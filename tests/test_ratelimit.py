"""The rate limiter's shared counters and per-worker leases: a client never gets more than its
limit across workers, and at most one lease per worker less; small limits are counted exactly."""

from __future__ import annotations

import logging
import random

import pytest

from incidents import ratelimit
from incidents.models import RateCounter


class CountingStore:
    """An in-memory shared counter that records how often it is asked."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.calls = 0

    def add(self, key: str, n: int, ttl: int) -> int:
        self.calls += 1
        self.counts[key] = self.counts.get(key, 0) + n
        return self.counts[key]

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)


class DownStore:
    def add(self, key: str, n: int, ttl: int) -> int:
        raise ConnectionError("store unreachable")

    def get(self, key: str) -> int:
        raise ConnectionError("store unreachable")


@pytest.fixture(autouse=True)
def _lease_cap(settings):
    settings.KB_RATE_LIMIT_LEASE = 50
    ratelimit.forget_leases()
    yield
    ratelimit.forget_leases()


def hammer(workers: list[ratelimit.Limiter], requests: int, limit: int, seed: int) -> int:
    """Send `requests` requests to randomly chosen workers; how many were let through."""
    rng = random.Random(seed)
    return sum(rng.choice(workers).consume("k", limit, 60, now=1000.0) for _ in range(requests))


@pytest.mark.parametrize("seed", range(5))
def test_workers_sharing_a_counter_never_let_more_than_the_limit_through(seed):
    store = CountingStore()
    workers = [ratelimit.Limiter(store) for _ in range(4)]
    limit = 1000
    lease = ratelimit.lease_size(limit)
    assert lease == 10
    allowed = hammer(workers, 3 * limit, limit, seed)
    assert limit - len(workers) * (lease - 1) <= allowed <= limit


@pytest.mark.django_db
def test_the_database_counter_holds_the_limit_across_workers():
    store = ratelimit.DatabaseCounters()
    workers = [ratelimit.Limiter(store) for _ in range(3)]
    allowed = hammer(workers, 900, 500, seed=1)
    assert 500 - 3 * (ratelimit.lease_size(500) - 1) <= allowed <= 500
    assert RateCounter.objects.get(key="k").count >= 500


def test_a_limit_under_200_is_counted_request_by_request():
    store = CountingStore()
    workers = [ratelimit.Limiter(store) for _ in range(4)]
    assert hammer(workers, 150, 120, seed=2) == 120
    assert store.calls == 150


def test_leases_spare_the_shared_counter_most_round_trips():
    store = CountingStore()
    worker = ratelimit.Limiter(store)
    assert all(worker.consume("k", 100_000, 60, now=1000.0) for _ in range(1000))
    assert store.calls == 1000 // 50
    assert store.counts["k"] == 1000


def test_a_worker_that_saw_the_limit_reached_refuses_without_asking_again():
    store = CountingStore()
    worker = ratelimit.Limiter(store)
    results = [worker.consume("k", 400, 60, now=1000.0) for _ in range(500)]
    assert results == [True] * 400 + [False] * 100
    assert store.calls == 400 // 4


def test_a_new_window_starts_a_new_count():
    store = CountingStore()
    worker = ratelimit.Limiter(store)
    assert sum(worker.consume("w1", 300, 60, now=1000.0) for _ in range(400)) == 300
    assert sum(worker.consume("w2", 300, 60, now=1060.0) for _ in range(400)) == 300


def test_a_store_that_is_down_lets_requests_through_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(ratelimit._limiter, "store", DownStore())
    with caplog.at_level(logging.WARNING, logger="incidents.ratelimit"):
        decision = ratelimit.consume("api", "203.0.113.5", "3/minute")
        checked = ratelimit.exhausted("api", "203.0.113.5", "3/minute")
    assert decision.allowed and checked.allowed
    assert "rate-limit store unavailable" in caplog.text


@pytest.mark.django_db
def test_database_counters_add_atomically_and_drop_past_windows(monkeypatch):
    store = ratelimit.DatabaseCounters()
    assert [store.add("a", 1, 60), store.add("a", 5, 60), store.add("b", 2, 60)] == [1, 6, 2]
    assert store.get("a") == 6 and store.get("missing") == 0
    RateCounter.objects.filter(key="a").update(expires=1)  # a window long past
    assert store.get("a") == 0
    store._cleaned = 0.0  # due for its periodic clean-up
    store.add("c", 1, 60)
    assert set(RateCounter.objects.values_list("key", flat=True)) == {"b", "c"}


@pytest.mark.parametrize("cap, limit, expected", [(50, 100, 1), (50, 1_000, 10), (50, 10**8, 50)])
def test_a_lease_is_at_most_one_percent_of_the_limit_and_the_cap(settings, cap, limit, expected):
    settings.KB_RATE_LIMIT_LEASE = cap
    assert ratelimit.lease_size(limit) == expected


def test_a_lease_cap_of_one_counts_every_request(settings):
    settings.KB_RATE_LIMIT_LEASE = 1
    store = CountingStore()
    worker = ratelimit.Limiter(store)
    assert all(worker.consume("k", 10**8, 60, now=1000.0) for _ in range(30))
    assert store.calls == 30
