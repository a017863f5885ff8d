"""Several processes writing and reading one Whoosh index at once (as gunicorn workers do): no
reader or writer ever fails because another process's commit or merge replaced the TOC or the
segments of the generation it was opening, and no write is lost.

The child processes are forked and never touch the database (a forked connection is not theirs
to use): writers index precomputed documents through the real write path, readers go through the
backend's per-process searcher. Bounded in time and count; the pool is always terminated.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import random
import time
import traceback

import pytest

from incidents.models import Story
from incidents.search import whoosh_backend, whoosh_store
from incidents.search.documents import stories_for_indexing, story_doc

STORIES = 8
WRITERS = 4
READERS = 3
SECONDS = 4.0  # each child stops after this long ...
MAX_OPS = 400  # ... or after this many operations,
MIN_OPS = 10  # but not before this many: on a loaded machine the clock alone proves no overlap
POOL_TIMEOUT = 60.0


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _writer(docs: dict, name: str, seed: int) -> tuple[int, list[str]]:
    # This process is a fork of the test: replacing the DB reads here affects only this child.
    whoosh_store.stories_for_indexing = lambda ids: [docs[i] for i in ids if i in docs]
    whoosh_store.story_doc = lambda doc: doc
    rng = random.Random(seed)
    ids = sorted(docs)
    deadline = time.monotonic() + SECONDS
    done, errors = 0, []
    while done < MIN_OPS or (done < MAX_OPS and time.monotonic() < deadline):
        pk = rng.choice(ids)
        docs[pk] = dataclasses.replace(docs[pk], body=f"{docs[pk].body} zq{name}{done}q")
        try:
            whoosh_backend.index_ids([pk])
        except Exception as exc:  # reported to the parent
            errors.append("writer: " + _error(exc))
        done += 1
    return done, errors


def _reader(word: str, seed: int) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    state = whoosh_backend.STATE
    term = whoosh_backend.stem(word)
    deadline = time.monotonic() + SECONDS
    done, errors = 0, []
    while done < MIN_OPS or (done < MAX_OPS and time.monotonic() < deadline):
        try:
            if rng.random() < 0.8:
                state.reset()  # open the generation afresh, as a new worker process would
            with state.lock:
                view = state.get()
                assert view is not None
                assert view.term_scores(term), "an indexed word was not found"
            if rng.random() < 0.2:
                assert len(whoosh_store.indexed_versions()) == STORIES
        except Exception as exc:  # reported to the parent
            errors.append("reader: " + _error(exc))
        done += 1
    return done, errors


@pytest.mark.django_db
def test_concurrent_writers_and_readers_never_see_a_vanished_generation(vocabulary, make_story):
    stories = [make_story() for _ in range(STORIES)]
    whoosh_store.rebuild()
    docs = {s.pk: story_doc(s) for s in stories_for_indexing([s.pk for s in stories])}
    whoosh_backend.STATE.reset()  # children must not inherit an open searcher

    context = multiprocessing.get_context("fork")
    with context.Pool(WRITERS + READERS) as pool:
        try:
            writers = [
                pool.apply_async(_writer, (docs, chr(ord("a") + n), n)) for n in range(WRITERS)
            ]
            readers = [pool.apply_async(_reader, ("coredns", 100 + n)) for n in range(READERS)]
            # A rebuild meanwhile: writers must follow the generation swap, readers too.
            time.sleep(SECONDS / 3)
            whoosh_store.rebuild()
            wrote = [r.get(timeout=POOL_TIMEOUT) for r in writers]
            read = [r.get(timeout=POOL_TIMEOUT) for r in readers]
        finally:
            pool.terminate()
            pool.join()

    errors = [e for _, errs in wrote + read for e in errs]
    assert errors == [], f"{len(errors)} failures, first: {errors[:3]}"
    # Every story is indexed exactly once in the live generation.
    whoosh_backend.STATE.reset()
    with whoosh_backend.STATE.lock:
        view = whoosh_backend.STATE.get()
        assert sorted(view.pk[d] for d in view.alive) == sorted(docs)
    whoosh_backend.STATE.reset()


def test_an_indexing_failure_after_commit_is_logged_not_raised(
    transactional_db, vocabulary, make_story, monkeypatch, caplog, settings
):
    """The edit is saved and the curator sees no error; the failure is logged (and --check
    repairs the index later)."""

    def vanished(ids):
        raise FileNotFoundError("_MAIN_7.toc")

    settings.KB_SEARCH_BACKEND = "whoosh"
    monkeypatch.setattr(whoosh_store, "write_stories", vanished)
    with caplog.at_level(logging.ERROR):
        story = make_story(title="Saved despite the index")
    assert Story.objects.get(pk=story.pk).title == "Saved despite the index"
    assert any("_MAIN_7.toc" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
