"""What the Whoosh backend keeps per process stays out of the garbage collector's way: a full
collection walks every tracked container, and at 10,000 stories the cached highlight analyses,
the did-you-mean index and the views' per-story values were hundreds of thousands of lists and
dicts, 100-250 ms per full collection landing on some unlucky request. Built from tuples, CPython
stops tracking them within a few collections (a level of nesting per collection at most)."""

from __future__ import annotations

import gc

from whoosh.filedb.filestore import FileStorage

from incidents.search import whoosh_backend, whoosh_store
from incidents.search.documents import StoryDoc
from incidents.search.spelling import Speller


def collect() -> None:
    for _ in range(3):
        gc.collect()


def test_a_cached_field_analysis_is_left_untracked():
    whoosh_backend._analysed_field.cache_clear()
    _text, where = whoosh_backend._analysed_field("symptom", "DNS timeouts; timeouts again.")
    assert where[whoosh_backend.stem("timeouts")] == ((4, 12), (14, 22))
    collect()
    assert not gc.is_tracked(where)


def test_the_did_you_mean_index_is_left_untracked():
    speller = Speller([("timeout", 3), ("conntrack", 1)])
    assert speller.correct("timeuot") == "timeout"
    collect()
    assert not gc.is_tracked(speller.index)


def test_a_views_per_story_values_are_left_untracked(tmp_path):
    ix = FileStorage(str(tmp_path)).create_index(whoosh_store.SCHEMA)
    writer = ix.writer()
    doc = StoryDoc(
        pk=1, slug="s1", version=1, status="published", head="etcd", symptom="", body="",
        sort_date="", values={"category": ["dns", "etcd"], "year": 2019},
    )  # fmt: skip
    writer.add_document(**whoosh_store.doc_fields(doc))
    writer.commit()
    view = whoosh_backend._View(ix.searcher())
    assert view.meta[0]["category"] == ("dns", "etcd")
    collect()
    assert not gc.is_tracked(view.meta[0])
