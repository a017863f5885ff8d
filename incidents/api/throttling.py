"""Throttling per token and per anonymous client, counted in the shared cache.

Fixed windows with an atomic counter (`cache.add` + `cache.incr`): one round trip to Redis per
request and O(1) memory per client, where DRF's sliding-window throttles keep every timestamp.
The price is that a client can spend two windows' worth at a window boundary, which is fine for
the purpose: limiting over-use, not security.

The anonymous client is identified by its address, taken `KB_NUM_PROXIES` hops from the right of
X-Forwarded-For (REMOTE_ADDR when no proxy is configured), so a client that sends a forged
X-Forwarded-For gets no extra quota. IPv6 clients are counted per /64, which one host controls.
If the cache is down the request is let through: throttling must not take the API down.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from incidents.models import ApiToken

log = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'120/minute' -> (120, 60)."""
    count, _, period = rate.partition("/")
    try:
        return int(count), _PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ValueError(f"invalid throttle rate {rate!r}; use e.g. 120/minute") from None


def client_address(request) -> str:
    """The client's address as far as the configured proxies can vouch for it."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.KB_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            remote = hops[-min(proxies, len(hops))]
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class KBThrottle(BaseThrottle):
    """One fixed-window counter per client: per token when authenticated, per address if not."""

    def _client(self, request) -> tuple[str, str]:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            return f"token:{auth.prefix}", settings.KB_API_THROTTLE_TOKEN
        return f"anon:{client_address(request)}", settings.KB_API_THROTTLE_ANON

    def allow_request(self, request, view) -> bool:
        ident, rate = self._client(request)
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"kb:throttle:{ident}:{period}:{window}"
        self._wait = (window + 1) * period - now
        try:
            cache.add(key, 0, timeout=period + 1)
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            count = 1
        except Exception:  # the cache is down: fail open, loudly
            log.warning("throttle cache unavailable; request not counted", exc_info=True)
            return True
        return count <= limit

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
