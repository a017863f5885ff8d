"""A process-local cache of the stories that search and list pages show, per data version.

Every search (site and API) and every browse page turns a page of story ids into Story objects
with their categories, technologies and rule links: one statement, then building about a hundred
model instances, which was the largest part of an API search's time (bench/api_bench.py). The
same stories come back in hit after hit, so each worker keeps the objects it built.

Freshness follows incidents.pagecache: entries belong to the data version that every write in
incidents.services bumps after its transaction commits, so the first search after a write (in any
worker, on any app server: the version lives in the shared cache) starts afresh. An entry is also
dropped after `pagecache.TTL` seconds, so a write that bypasses the services shows within
minutes, as on the cached browse pages. When the version cannot be read (no cache table yet,
Redis down) nothing is cached.

Callers get copies: list views attach per-request values (labels in the request's language, an
excerpt) to the objects they are given, and those must not leak into another request. The copies
share the cached story's prefetched relations, so the rule links the API prefetches on a page's
stories are read once per data version, not on every search, and so is what is derived from a
story and those relations alone (`memo`: the API's list item without its highlights and score).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from django.db.models.base import ModelState

from incidents import pagecache
from incidents.models import Story

SIZE = 2048  # stories kept per process (a story with its relations is a few KB)
logger = logging.getLogger(__name__)


_warned_at: float | None = None
WARN_EVERY = 300.0  # seconds: a missing cache table must not log a traceback per search


def current_version() -> int | None:
    """The data version, or None when it cannot be read (then nothing is cached)."""
    global _warned_at
    try:
        return pagecache.data_version()
    except Exception:
        now = time.monotonic()
        if _warned_at is None or now - _warned_at >= WARN_EVERY:
            _warned_at = now
            logger.warning("data version unavailable; hit stories are not cached", exc_info=True)
        return None


def clone(story: Story) -> Story:
    """A copy with its own attributes and model state, and the cached story's table of
    prefetched relations: a relation prefetched on one copy (the API's rule links) is there for
    every later copy, without another query. Prefetching only adds complete, read-only
    results for the same data version to that table.

    What `copy.copy` makes of a model instance (its __dict__ and a copy of its state with its
    own cache of related objects) without the pickling protocol it goes through, which cost
    ten times as much: a page of hits is ten copies on every search."""
    state = story.__dict__.copy()
    old = state["_state"]
    if type(old) is not ModelState:
        return copy.copy(story)
    model_state = ModelState.__new__(ModelState)
    model_state.__dict__.update(old.__dict__)
    model_state.fields_cache = old.fields_cache.copy()
    state["_state"] = model_state
    new = Story.__new__(type(story))
    new.__dict__.update(state)
    return new


def memo(story: Story) -> dict | None:
    """A dictionary shared by every copy of a cached story, for values derived only from the
    story and its prefetched relations (the API's list item): computed on one search, reused by
    the next ones until the data version moves on. None for a story not in the cache."""
    return story.__dict__.get("_hit_memo")


class StoryCache:
    def __init__(self, size: int = SIZE, ttl: float = pagecache.TTL) -> None:
        self.size, self.ttl = size, ttl
        self._lock = threading.Lock()
        self._version: int | None = None
        self._entries: OrderedDict[int, tuple[float, Story]] = OrderedDict()

    def clear(self) -> None:
        with self._lock:
            self._version = None
            self._entries.clear()

    def get_many(self, ids: Iterable[int], version: int | None) -> dict[int, Story]:
        """The cached stories of `ids` for this data version (a new version empties the cache)."""
        if version is None:
            return {}
        now = time.monotonic()
        out: dict[int, Story] = {}
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
                return out
            for pk in ids:
                entry = self._entries.get(pk)
                if entry is None:
                    continue
                if now - entry[0] >= self.ttl:
                    del self._entries[pk]
                    continue
                self._entries.move_to_end(pk)
                out[pk] = entry[1]
        return out

    def put_many(self, stories: Iterable[Story], version: int | None) -> None:
        """Keep `stories`, read under `version`; ignored when the version has moved on since."""
        if version is None:
            return
        now = time.monotonic()
        with self._lock:
            if version != self._version:
                return
            for story in stories:
                story.__dict__.setdefault("_hit_memo", {})
                self._entries[story.pk] = (now, story)
                self._entries.move_to_end(story.pk)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


STORIES = StoryCache()
