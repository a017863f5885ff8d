"""Scoring reads one posting per stem and story whose weight packs the stem's frequency in each
text group (whoosh_store.PackedTerms), instead of one posting list per group. The scores must be
those of per-group postings to the last bit, and an index written before the packed field (or
partly before, partly after: stories edited since an upgrade) must still score every story."""

from __future__ import annotations

import random

import pytest
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage

from incidents.search import whoosh_backend, whoosh_store
from incidents.search.documents import StoryDoc

WORDS = ["pod", "pods", "etcd", "quorum", "dns", "timeouts", "node", "drain", "conntrack", "oom"]


def make_docs(n: int = 60) -> list[StoryDoc]:
    rng = random.Random(11)

    def text(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k))

    docs = []
    for i in range(n):
        # Empty groups, short ones and bodies long enough that Whoosh's one-byte length
        # encoding rounds their lengths (and a word repeated 150 to 220 times in one group,
        # within the packed field's 255).
        body = text(rng.choice([0, 5, 300, 700]))
        if i % 7 == 0:
            body += " drain" * 150
        docs.append(
            StoryDoc(
                pk=i + 1,
                slug=f"s{i}",
                version=1,
                status="published",
                head=text(rng.choice([0, 3, 8])),
                symptom=text(rng.choice([0, 10, 40])),
                body=body,
                sort_date="",
            )
        )
    return docs


def legacy_fields(doc: StoryDoc) -> dict:
    """What the index held for a story before the packed field: a posting list per group."""
    values = whoosh_store.doc_fields(doc)
    texts = values.pop("terms")
    del values["lengths"]
    values.update(zip(whoosh_store.TEXT_FIELD_NAMES, texts, strict=True))
    return values


def view_of(path, docs: list[StoryDoc], legacy) -> whoosh_backend._View:
    path.mkdir()
    ix = FileStorage(str(path)).create_index(whoosh_store.SCHEMA)
    writer = ix.writer()
    for i, doc in enumerate(docs):
        writer.add_document(**(legacy_fields(doc) if legacy(i) else whoosh_store.doc_fields(doc)))
    writer.commit()
    return whoosh_backend._View(ix.searcher())


@pytest.fixture
def views(tmp_path):
    docs = make_docs()
    return (
        view_of(tmp_path / "packed", docs, lambda i: False),
        view_of(tmp_path / "legacy", docs, lambda i: True),
        view_of(tmp_path / "mixed", docs, lambda i: i % 2 == 0),
    )


def test_packed_postings_score_as_per_group_postings(views):
    packed, legacy, mixed = views
    assert (packed.has_packed, packed.has_legacy) == (True, False)
    assert (legacy.has_packed, legacy.has_legacy) == (False, True)
    assert (mixed.has_packed, mixed.has_legacy) == (True, True)
    for f in whoosh_backend.TEXT_FIELDS:
        assert packed.norm[f] == legacy.norm[f] == mixed.norm[f]
    for word in WORDS:
        stem = whoosh_backend.stem(word)
        expected = legacy.term(stem).scores
        assert expected, word
        assert packed.term(stem).scores == expected, word
        assert mixed.term(stem).scores == expected, word


def test_packed_weight_holds_each_groups_frequency():
    head, symptom, body = (whoosh_store.Analysed(t) for t in ("dns dns", "", "etcd dns " * 300))
    dns, etcd = whoosh_backend.stem("dns"), whoosh_backend.stem("etcd")
    postings = {
        term.decode(): (freq, weight)
        for term, freq, weight, _ in whoosh_store.PackedTerms().index((head, symptom, body))
    }
    # dns: 2 in the head, 300 in the body (counted as 255: 8 bits per group).
    assert postings[dns] == (302, float(2 + (255 << 16)))
    assert postings[etcd] == (300, float(255 << 16))


def postings(view: whoosh_backend._View, term: str, *, bulk: bool) -> list[tuple[int, float]]:
    out = []
    key = (whoosh_store.PACKED_FIELD, term)
    for leaf, base in view.reader.leaf_readers():
        if key in leaf:
            for ids, weights in whoosh_backend._posting_blocks(leaf.postings(*key), bulk=bulk):
                out += [(d + base, w) for d, w in zip(ids, weights, strict=True)]
    return out


def test_postings_read_a_block_at_a_time_are_those_of_the_matcher_interface(tmp_path):
    """Several blocks per term (64 postings per block here; any size reads the same), two
    segments, and a deleted story (its segment's matcher is wrapped, so it takes the public
    interface)."""
    docs = make_docs(700)
    path = tmp_path / "ix"
    path.mkdir()
    ix = FileStorage(str(path)).create_index(whoosh_store.SCHEMA)
    for part in (docs[:400], docs[400:]):
        writer = ix.writer(codec=W3Codec(blocklimit=64))
        for doc in part:
            writer.add_document(**whoosh_store.doc_fields(doc))
        writer.commit(merge=False)
    view = whoosh_backend._View(ix.searcher())
    assert len(view.reader.leaf_readers()) == 2
    leaf = view.reader.leaf_readers()[0][0]
    assert type(leaf.postings(whoosh_store.PACKED_FIELD, "pod")) is whoosh_backend._BLOCK_MATCHER
    for word in WORDS:
        stem = whoosh_backend.stem(word)
        bulk = postings(view, stem, bulk=True)
        assert len(bulk) > 3 * 64, word
        assert bulk == postings(view, stem, bulk=False), word

    writer = ix.writer()
    writer.delete_by_term("id", str(docs[3].pk))
    writer.commit(merge=False)
    view = whoosh_backend._View(ix.searcher())
    stem = whoosh_backend.stem("pod")
    assert postings(view, stem, bulk=True) == postings(view, stem, bulk=False)
