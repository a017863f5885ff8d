"""Chat replies answer in the language of the query: Chinese characters get a Chinese reply,
with a story's Chinese summary where it has one; everything else stays English."""

from __future__ import annotations

from incidents.chat.replies import answer, query_language
from incidents.models import Story
from tests.chat.conftest import MATTERMOST_TOKEN
from tests.chat.test_slack import command, signed_post


def mattermost(client, text: str) -> str:
    form = {"token": MATTERMOST_TOKEN, "text": text, "command": "/kb"}
    return client.post("/chat/mattermost/", form).json()["text"]


def test_the_language_follows_the_query():
    assert query_language("coredns timeouts") == "en-gb"
    assert query_language("coredns 超时") == "zh-hans"
    assert query_language("rule KB001") == "en-gb"


def test_a_chinese_query_gets_a_chinese_reply_with_the_chinese_summary(client, stories):
    Story.objects.filter(slug="dns-outage").update(
        summary_zh="CoreDNS 内存耗尽，集群内的域名解析全部超时。之后团队提高了内存限制。"
    )
    text = mattermost(client, "coredns 内存")
    assert "与“coredns 内存”相关的已知故障案例" in text
    assert "**摘要:** CoreDNS 内存耗尽，集群内的域名解析全部超时。" in text
    assert "**修复:** Raised the limit and added an autoscaler." in text  # English record
    assert "只有您能看到这条消息" in text
    assert "Known failure stories" not in text


def test_an_english_query_stays_english_even_when_a_summary_zh_exists(client, stories):
    Story.objects.filter(slug="dns-outage").update(summary_zh="CoreDNS 内存耗尽。")
    text = mattermost(client, "coredns memory")
    assert "Known failure stories for “coredns memory”" in text
    assert "内存耗尽" not in text and "**Symptom:**" in text


def test_chinese_help_no_results_and_unknown_rule(client, stories):
    assert "Kubernetes 故障知识库" in mattermost(client, "帮助")
    assert "没有与“完全不存在的词”匹配的案例。" in mattermost(client, "完全不存在的词")
    assert answer("rule 不存在").heading == "没有名为“不存在”的规则。"


def test_slack_labels_follow_the_query_language(client, stories):
    blocks = signed_post(client, command("coredns 内存")).json()["blocks"]
    texts = [b.get("text", {}).get("text", "") for b in blocks]
    assert any("*症状:*" in t for t in texts)
    button = blocks[-1]["elements"][0]["text"]["text"]
    assert button == "分享到频道"
    english = signed_post(client, command("coredns memory")).json()["blocks"]
    assert english[-1]["elements"][0]["text"]["text"] == "Share in channel"
