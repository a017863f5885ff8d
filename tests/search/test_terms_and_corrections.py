"""Word forms, compounds, Chinese queries and auto-corrected typos, on every backend."""

from __future__ import annotations

import pytest

from incidents import search
from incidents.models import Technology
from incidents.search import query


@pytest.fixture
def stories(backend, vocabulary, make_story, search_index):
    Technology.objects.filter(slug="oom-killer").update(aliases=["OOMKilled", "OOM", "内存溢出"])
    query.clear_alias_cache()
    made = {
        "miner": make_story(
            slug="miner",
            title="A cryptocurrency miner on every node",
            summary="An exposed dashboard let a crawler start a Monero miner on the hosts.",
            symptom="High load average on every node.",
        ),
        "oom": make_story(
            slug="oom",
            title="Workers restarted all day",
            summary="A consumer grew without bound.",
            symptom="Containers restarted with high memory usage.",
            technologies=[vocabulary["oom-killer"]],
        ),
        "chinese": make_story(
            slug="chinese",
            title="证书过期导致集群故障",
            summary="控制平面的证书过期, kubelet 无法连接 API server.",
            symptom="所有节点 NotReady.",
        ),
        "other": make_story(slug="other", title="Slow lookups", summary="Lookups were slow."),
    }
    search_index()
    return made


def slugs(q: str, **kw) -> list[str]:
    return [h.story.slug for h in search.search(q, highlight=False, **kw).hits]


@pytest.mark.parametrize("q", ["cryptominer", "crypto miner", "cryptocurrency mining"])
def test_word_forms_and_compounds_of_a_vocabulary_term_meet(stories, backend, q):
    assert slugs(q)[:1] == ["miner"]


def test_a_common_word_does_not_push_the_specific_story_down(stories, backend):
    assert slugs("cryptominer in cluster")[:1] == ["miner"]


def test_a_chinese_term_finds_the_english_story_through_the_vocabulary(stories, backend):
    assert slugs("挖矿")[:1] == ["miner"]


def test_a_chinese_technology_alias_finds_the_tagged_story(stories, backend):
    assert slugs("内存溢出")[:1] == ["oom"]


def test_chinese_text_is_indexed_and_found_by_a_chinese_query(stories, backend):
    assert slugs("证书过期")[:1] == ["chinese"]
    assert slugs("控制平面")[:1] == ["chinese"]  # not in the vocabulary: bigrams
    assert "chinese" not in slugs("平面控制")  # the same characters in another order


def test_a_chinese_summary_is_indexed(stories, backend, make_story, search_index):
    make_story(slug="zh-summary", summary_zh="节点上的日志采集器悄悄停止了输出。")
    search_index()
    assert slugs("日志采集器")[:1] == ["zh-summary"]


def test_a_query_mixing_scripts_without_a_space_is_split(stories, backend):
    assert slugs("kubelet无法连接")[:1] == ["chinese"]


def test_a_misspelt_query_that_finds_nothing_shows_the_corrected_results(stories, backend):
    results = search.search("cryptomner", highlight=False)
    assert [h.story.slug for h in results.hits][:1] == ["miner"]
    assert results.corrected is True
    assert results.suggestion == "cryptominer"
    assert results.original == "cryptomner"


def test_the_query_as_typed_can_still_be_searched(stories, backend):
    results = search.search("cryptomner", highlight=False, correct=False)
    assert results.hits == []
    assert results.corrected is False
    assert results.suggestion == "cryptominer"


def test_a_query_that_finds_enough_is_not_corrected(stories, backend):
    results = search.search("restarted lookups slow workerz", highlight=False)
    assert results.corrected is False
    assert results.total >= 2
