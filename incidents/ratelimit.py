"""Fixed-window rate limits counted in the shared cache: the API, the check page, suggestions.

One counter per client and window (`cache.add` + `cache.incr`): one cache round trip per request
and O(1) memory per client, where sliding-window throttles keep every timestamp. The price is
that a client can spend two windows' worth across a window boundary, which is fine for what this
is for: limiting over-use, not security.

Anonymous clients are counted by the address the configured proxies vouch for
(`middleware.client_address`, so a forged X-Forwarded-For earns no extra quota), IPv6 clients per
/64, which one host controls. If the cache is down the request is let through and a warning
logged: a rate limit must not take the site down with it.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from incidents.middleware import client_address

log = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


def consume(scope: str, client: str, rate: str) -> Decision:
    """Count one request of `client` against `rate` within `scope`."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    retry_after = max(1, round((window + 1) * period - now))
    key = f"kb:rate:{scope}:{client}:{period}:{window}"
    try:
        cache.add(key, 0, timeout=period + 1)
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        count = 1
    except Exception:  # the cache is down: fail open, loudly
        log.warning("rate-limit cache unavailable; request not counted", exc_info=True)
        return Decision(True, 0)
    return Decision(count <= limit, retry_after)


def exhausted(scope: str, client: str, rate: str) -> Decision:
    """Whether `client` has already used up `rate` within `scope`, without counting anything
    (for limits on failures: look first, `consume` only when the request fails)."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    retry_after = max(1, round((window + 1) * period - now))
    try:
        count = cache.get(f"kb:rate:{scope}:{client}:{period}:{window}", 0)
    except Exception:
        log.warning("rate-limit cache unavailable; request not checked", exc_info=True)
        return Decision(True, 0)
    return Decision(count < limit, retry_after)
