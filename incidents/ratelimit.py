"""Fixed-window rate limits on a shared counter: the API, the check page, suggestions.

One counter per client and window, O(1) memory per client, where sliding-window throttles keep
every timestamp. The price is that a client can spend two windows' worth across a window
boundary, which is fine for what this is for: limiting over-use, not security.

Where the counters live. With Redis (REDIS_URL), one pipelined `SET NX EX` + `INCRBY`: one round
trip. Without it, a row of `RateCounter` changed by one `INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`: one statement, atomic across workers (Django's database cache increments by reading
and rewriting a value, so two workers could both count 8 and let a ninth request through).

Leases. A request costs one round trip to the shared counter, which profiling showed was most of
a trivial API request's time. For large limits each worker reserves a batch of requests at once
(`INCRBY n`) and hands them out from memory; the batch is at most 1% of the limit and at most
KB_RATE_LIMIT_LEASE. Reserved numbers beyond the limit are never handed out, so across all
workers a client never gets more than its limit per window; the bound goes the other way: a
client may be refused up to (n - 1) requests early per worker holding an unspent batch (1% of the
limit per worker). A worker that sees the shared count reach the limit refuses the client for the
rest of the window without asking again. Limits under 200 per window are counted one by one.

Anonymous clients are counted by the address the configured proxies vouch for
(`middleware.client_address`, so a forged X-Forwarded-For earns no extra quota), IPv6 clients per
/64, which one host controls. If the store is down the request is let through and a warning
logged: a rate limit must not take the site down with it.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.http import HttpRequest

from incidents.middleware import client_address

log = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LEASE_FRACTION = 100  # a lease is at most 1/LEASE_FRACTION of the limit
MAX_LOCAL_KEYS = 10_000  # leases kept per process before old windows are dropped


def parse_rate(rate: str) -> tuple[int, int]:
    """'120/minute' -> (120, 60). Raises ValueError with the accepted format."""
    count, _, period = rate.partition("/")
    try:
        limit, seconds = int(count), PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ValueError(f"invalid rate {rate!r}; use e.g. 120/minute") from None
    if limit < 0:
        raise ValueError(f"invalid rate {rate!r}: the count must not be negative")
    return limit, seconds


def client_key(request: HttpRequest) -> str:
    """The anonymous client to count: its address, or its /64 for IPv6."""
    remote = client_address(request)
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds until the window ends (for a Retry-After header)


class Counters(Protocol):
    """Where the shared counts live."""

    def add(self, key: str, n: int, ttl: int) -> int:
        """Add `n` to `key` (created at 0 to expire in `ttl` seconds); the new count."""

    def get(self, key: str) -> int:
        """The current count of `key` (0 when absent)."""


class RedisCounters:
    """Counters in Redis: `SET key 0 EX ttl NX` and `INCRBY` in one MULTI/EXEC round trip."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def add(self, key: str, n: int, ttl: int) -> int:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(key, 0, ex=ttl, nx=True)
        pipe.incrby(key, n)
        return int(pipe.execute()[1])

    def get(self, key: str) -> int:
        value = self.client.get(key)
        return int(value) if value is not None else 0


class DatabaseCounters:
    """Counters in the `RateCounter` table: one atomic upsert per call; rows of past windows
    are deleted at most once a minute per process."""

    CLEAN_EVERY = 60.0

    def __init__(self) -> None:
        self._cleaned = 0.0

    def _sql(self, connection) -> tuple[str, str, str]:
        from incidents.models import RateCounter

        qn = connection.ops.quote_name
        table, key, count, expires = (
            qn(name) for name in (RateCounter._meta.db_table, "key", "count", "expires")
        )
        upsert = (
            f"INSERT INTO {table} ({key}, {count}, {expires}) VALUES (%s, %s, %s) "
            f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count} "
            f"RETURNING {count}"
        )
        select = f"SELECT {count} FROM {table} WHERE {key} = %s AND {expires} > %s"
        clean = f"DELETE FROM {table} WHERE {expires} <= %s"
        return upsert, select, clean

    def _run(self, sql: str, params: list) -> tuple | None:
        from django.db import connection, transaction

        def run() -> tuple | None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone() if cursor.description else None

        if connection.in_atomic_block:  # a failure must not break the caller's transaction
            with transaction.atomic():
                return run()
        return run()

    def add(self, key: str, n: int, ttl: int) -> int:
        from django.db import connection

        upsert, _, clean = self._sql(connection)
        now = int(time.time())
        if now - self._cleaned >= self.CLEAN_EVERY:
            self._cleaned = now
            self._run(clean, [now])
        return int(self._run(upsert, [key, n, now + ttl])[0])

    def get(self, key: str) -> int:
        from django.db import connection

        _, select, _ = self._sql(connection)
        row = self._run(select, [key, int(time.time())])
        return int(row[0]) if row else 0


_stores: dict[str, Counters] = {}


def counters() -> Counters:
    """Redis when REDIS_URL is set (shared by every app server), the database otherwise."""
    url = settings.REDIS_URL
    store = _stores.get(url)
    if store is None:
        store = _stores[url] = RedisCounters(url) if url else DatabaseCounters()
    return store


def lease_size(limit: int) -> int:
    """How many requests one worker reserves at a time for a limit of `limit` per window."""
    return max(1, min(settings.KB_RATE_LIMIT_LEASE, limit // LEASE_FRACTION))


@dataclass
class _Lease:
    left: int  # reserved requests this process may still let through
    until: float  # end of the window (time.time())
    spent: bool = False  # the shared count reached the limit: refuse until the window ends


class Limiter:
    """One process's view of the shared counters: its unspent leases, keyed by counter."""

    def __init__(self, store: Counters | None = None) -> None:
        self.store = store  # None: `counters()` at each call (follows the settings)
        self.leases: dict[str, _Lease] = {}
        self.lock = threading.Lock()

    def consume(self, key: str, limit: int, period: int, *, now: float) -> bool:
        """Count one request on counter `key` (its window ends at the next multiple of
        `period`); whether it is within `limit`."""
        n = lease_size(limit)
        if n > 1:
            with self.lock:
                lease = self.leases.get(key)
                if lease is not None and lease.left > 0:
                    lease.left -= 1
                    return True
                if lease is not None and lease.spent:
                    return False
        count = (self.store or counters()).add(key, n, period + 1)
        # This reservation holds request numbers count-n+1 .. count; those above the limit are
        # void, so however the workers' reservations interleave, no more than `limit` are used.
        granted = max(0, min(n, limit - (count - n)))
        if n > 1:
            with self.lock:
                if len(self.leases) >= MAX_LOCAL_KEYS:
                    self._drop_past_windows(now)
                lease = self.leases.setdefault(key, _Lease(0, (now // period + 1) * period))
                lease.left += max(0, granted - 1)
                lease.spent = lease.spent or count >= limit
        return granted > 0

    def _drop_past_windows(self, now: float) -> None:
        for key in [k for k, lease in self.leases.items() if lease.until <= now]:
            del self.leases[key]
        if len(self.leases) >= MAX_LOCAL_KEYS:  # many clients at once: unspent leases are lost
            self.leases.clear()

    def forget(self) -> None:
        """Drop the unspent leases (the shared counts are untouched)."""
        with self.lock:
            self.leases.clear()


_limiter = Limiter()


def forget_leases() -> None:
    """Drop this process's unspent leases (tests: a fresh process's view)."""
    _limiter.forget()


def _key(scope: str, client: str, period: int, window: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "kb"
    return f"{prefix}:rate:{scope}:{client}:{period}:{window}"


def consume(scope: str, client: str, rate: str) -> Decision:
    """Count one request of `client` against `rate` within `scope`."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    retry_after = max(1, round((window + 1) * period - now))
    try:
        allowed = _limiter.consume(_key(scope, client, period, window), limit, period, now=now)
    except Exception:  # the store is down: fail open, loudly
        log.warning("rate-limit store unavailable; request not counted", exc_info=True)
        return Decision(True, 0)
    return Decision(allowed, retry_after)


def exhausted(scope: str, client: str, rate: str) -> Decision:
    """Whether `client` has already used up `rate` within `scope`, without counting anything
    (for limits on failures: look first, `consume` only when the request fails)."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    retry_after = max(1, round((window + 1) * period - now))
    try:
        count = counters().get(_key(scope, client, period, window))
    except Exception:
        log.warning("rate-limit store unavailable; request not checked", exc_info=True)
        return Decision(True, 0)
    return Decision(count < limit, retry_after)
