"""PostgreSQL backend only: a rebuild fills new tables and swaps them in while searches and
index writes go on in other connections; none of them fails or sees a half-built index."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from incidents import search
from incidents.search import postgres_backend as pg

pytestmark = [
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="PostgreSQL backend only"),
    pytest.mark.django_db(transaction=True),
]

STORIES = 12
REBUILDS = 5


def _loop(stop: threading.Event, errors: list, done: list, step) -> None:
    try:
        while not stop.is_set():
            try:
                step()
                done.append(1)
            except Exception as exc:  # reported by the test
                errors.append(repr(exc))
    finally:
        connection.close()  # this thread's own connection


def test_searches_and_writes_during_rebuilds_never_fail(settings, vocabulary, make_story):
    settings.KB_SEARCH_BACKEND = "postgres"
    ids = [
        make_story(
            slug=f"dns-{i}",
            title=f"CoreDNS timeouts, case {i}",
            symptom="Lookups timed out under load; conntrack races dropped UDP packets.",
            platform="aws",
            technologies=[vocabulary["coredns"]],
        ).pk
        for i in range(STORIES)
    ]
    search.rebuild()
    rng = random.Random(5)

    def read() -> None:
        results = search.search("coredns timeouts conntrack", filters={"platform": ["gke"]})
        assert results.total == 0  # the stories are not on GKE: a filtered full match
        results = search.search('coredns "udp packets"')
        assert results.total == STORIES, results.total
        assert all(h.highlights for h in results.hits)

    def write() -> None:
        pg.index_ids(rng.sample(ids, 3))

    stop = threading.Event()
    errors: list[str] = []
    reads: list[int] = []
    writes: list[int] = []
    threads = [threading.Thread(target=_loop, args=(stop, errors, reads, read)) for _ in range(3)]
    threads.append(threading.Thread(target=_loop, args=(stop, errors, writes, write)))
    for t in threads:
        t.start()
    try:
        for _ in range(REBUILDS):
            time.sleep(0.1)
            assert search.rebuild() == STORIES
    finally:
        time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == [], f"{len(errors)} failures, first: {errors[:3]}"
    assert len(reads) >= 10 and len(writes) >= 5
    report = search.check_index()
    assert report.ok and report.indexed == STORIES
    with connection.cursor() as cur:  # no build table is left behind
        cur.execute("SELECT count(*) FROM pg_class WHERE relname LIKE %s", [f"%{pg.BUILD}%"])
        assert cur.fetchone()[0] == 0
