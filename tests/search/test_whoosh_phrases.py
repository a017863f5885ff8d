"""Whoosh phrases are matched on each story's stem sequence, one character per stem
(whoosh_backend._SeqCodes): whole stems in order within one text group, and a refreshed view
encodes only the stories that changed."""

from __future__ import annotations

from whoosh.filedb.filestore import FileStorage

from incidents.search import whoosh_backend, whoosh_store
from incidents.search.documents import StoryDoc


def doc(pk: int, head: str = "", symptom: str = "", body: str = "") -> StoryDoc:
    return StoryDoc(
        pk=pk, slug=f"s{pk}", version=1, status="published",
        head=head, symptom=symptom, body=body, sort_date="",
    )  # fmt: skip


def found(view: whoosh_backend._View, *words: str) -> set[int]:
    return {view.pk[d] for d in view.phrase_docs(words)}


def test_a_phrase_is_whole_stems_in_order_within_one_group(tmp_path):
    ix = FileStorage(str(tmp_path)).create_index(whoosh_store.SCHEMA)
    writer = ix.writer()
    for d in [
        doc(1, head="Memory limit worker restarts"),
        doc(2, symptom="the limits of workers were hit"),  # other forms of the same stems
        doc(3, head="raised the limit", symptom="worker pools grew"),  # across two groups
        doc(4, body="a limit workerpool and a worker limit"),  # a longer word; reversed
        doc(5, body="limit, worker"),  # punctuation between the words is no break
    ]:
        writer.add_document(**whoosh_store.doc_fields(d))
    writer.commit()
    view = whoosh_backend._View(ix.searcher())
    assert found(view, "limit", "worker") == {1, 2, 5}
    assert found(view, "worker", "limit") == {4}
    assert found(view, "memory", "limit", "worker") == {1}
    assert found(view, "limit", "restarts") == set()


def test_a_refreshed_view_reuses_the_sequences_of_unchanged_stories(tmp_path):
    ix = FileStorage(str(tmp_path)).create_index(whoosh_store.SCHEMA)
    writer = ix.writer()
    writer.add_document(**whoosh_store.doc_fields(doc(1, symptom="dns timeouts everywhere")))
    writer.add_document(**whoosh_store.doc_fields(doc(2, symptom="etcd quorum lost")))
    writer.commit()
    first = whoosh_backend._View(ix.searcher())

    writer = ix.writer()
    writer.delete_by_term("id", "2")
    writer.add_document(**whoosh_store.doc_fields(doc(2, symptom="etcd lost dns timeouts")))
    writer.commit()
    second = whoosh_backend._View(ix.searcher(), first)

    (kept,) = (h for h in second.seq_by_hash if h in first.seq_by_hash)
    assert second.seq_by_hash[kept] is first.seq_by_hash[kept]
    assert found(second, "dns", "timeouts") == {1, 2}
    assert found(second, "etcd", "quorum") == set()
