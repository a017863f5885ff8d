"""Shared caches of page aggregates that every reader sees alike (browse counts, the overview's
figures, the dataset files), so pages stay fast with tens of thousands of stories.

Entries are keyed by a data version. Every write in incidents.services bumps it after its
transaction commits (a reader racing the commit cannot store old numbers under the new version);
entries also expire after `TTL` seconds, so a write that bypasses the services (raw SQL, a bulk
import) shows within minutes. The version lives in the shared cache, so with Redis every app
server sees a bump at once.

A cache that cannot be reached (no cache table yet, Redis down) never fails a write or a page:
the write logs a warning and pages compute their figures directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "kb:data-version"
TTL = 300

T = TypeVar("T")
logger = logging.getLogger(__name__)


def data_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY, version)
    return version


def _new_version() -> None:
    try:
        # A savepoint: with the database cache a failing statement (no cache table yet) must not
        # abort the write's own PostgreSQL transaction.
        with transaction.atomic():
            cache.set(VERSION_KEY, time.time_ns(), None)
    except Exception:  # the write itself succeeded; stale pages expire after TTL
        logger.warning("could not bump the page cache version", exc_info=True)


def bump() -> None:
    """Start a new data version now (and again when the current transaction commits)."""
    _new_version()
    transaction.on_commit(_new_version)


def cached(name: str, build: Callable[[], T], *, ttl: int = TTL) -> T:
    """`build()`'s value for the current data version, computed once per version and TTL."""
    try:
        key = f"kb:page:{name}:{data_version()}"
        value = cache.get(key)
    except Exception:
        logger.warning("page cache unavailable; computing %s directly", name, exc_info=True)
        return build()
    if value is None:
        value = build()
        try:
            cache.set(key, value, ttl)
        except Exception:
            logger.warning("could not store %s in the page cache", name, exc_info=True)
    return value
