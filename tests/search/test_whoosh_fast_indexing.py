"""The rebuild's shortcuts around Whoosh's generic machinery write exactly what Whoosh would:
keyword postings counted directly, and postings pooled per term instead of sorted one by one."""

from __future__ import annotations

import random

import pytest
from whoosh import fields

from incidents.search.whoosh_store import FastKeyword, TermPool

TEXTS = [
    "coredns kube-proxy coredns",
    "Hello there  big-time,\tWhat's\nup UP up",
    "",
    "a\r\nb a  ünïcode Ünïcode",
]


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("text", TEXTS)
def test_fast_keyword_postings_are_whooshs(lowercase, text):
    whoosh_field = fields.KEYWORD(lowercase=lowercase, scorable=True)
    fast_field = FastKeyword(lowercase=lowercase, scorable=True)
    assert sorted(fast_field.index(text)) == sorted(whoosh_field.index(text))


def test_term_pool_yields_postings_in_field_term_document_order():
    rng = random.Random(3)
    items = []
    for docnum in range(300):
        for _ in range(rng.randrange(1, 8)):
            field = rng.choice(["body", "head", "spell"])
            term = rng.choice(["dns", "etcd", "oom", "ünï"]).encode()
            items.append((field, term, docnum, rng.random(), bytes([rng.randrange(256)])))
    # A merge from another segment adds a term's postings out of document order.
    items.append(("body", b"dns", 5, 1.0, b"x"))
    pool = TermPool()
    for item in items:
        pool.add(item)
    expected = sorted(items, key=lambda i: (i[0], i[1], i[2]))
    got = list(pool.iter_postings())
    assert [i[:3] for i in got] == [i[:3] for i in expected]
    assert sorted(got) == sorted(items)
    assert pool.fieldnames == {"body", "head", "spell"}
