"""The Chinese interface: Accept-Language picks it, the switch keeps the page, dates follow it."""

from __future__ import annotations

import datetime

import pytest

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.mark.django_db
def test_english_is_the_default(client, dataset):
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body
    assert "Newest stories" in body and "最新案例" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["zh-CN", "zh-Hans", "zh", "zh-TW;q=0.8, zh-CN"])
def test_accept_language_chinese_gets_the_chinese_interface(client, dataset, accept):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    body = response.content.decode()
    assert '<html lang="zh-Hans">' in body
    assert "最新案例" in body and "Newest stories" not in body
    assert response["Content-Language"] == "zh-hans"
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, chinese",
    [
        ("/", "从别人的 Kubernetes 故障中汲取教训"),
        ("/stories/", "全部案例"),
        ("/search/?q=memory", "个案例"),
        ("/search/?q=zzzqqq", "没有与“zzzqqq”匹配的案例"),
        ("/rules/", "运行清单规则"),
        ("/check/", "检查我的清单"),
        ("/overview/", "覆盖情况：规则与案例对照"),
        ("/data/", "下载数据集"),
        ("/suggest/", "原文链接"),
        ("/categories/dns/", "类别"),
    ],
)
def test_every_page_speaks_chinese(client, dataset, path, chinese):
    response = client.get(path, **ZH)
    assert response.status_code == 200
    assert chinese in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/stories/", "/platforms/aks/", "/search/?q=ingress"])
def test_list_items_show_the_platform_and_source_kind_in_the_readers_language(
    client, dataset, path
):
    # List items take their labels from one table per page (views.pages.decorate).
    english = client.get(path).content.decode()
    chinese = client.get(path, **ZH).content.decode()
    assert "Example Shop · 2021 · AKS" in english
    if path != "/":  # the home page's newest stories show no source kind
        assert "· AKS · Blog post</p>" in english and "· AKS · 博客文章</p>" in chinese


@pytest.mark.django_db
def test_choice_labels_and_form_errors_are_translated(client, dataset):
    body = client.get("/stories/ingress-502/", **ZH).content.decode()
    assert "博客文章" in body  # source kind
    assert "已读原文全文" in body  # provenance
    body = client.post("/check/", {"manifest": ""}, **ZH).content.decode()
    assert "请粘贴 YAML 或 JSON，或选择要上传的文件。" in body


@pytest.mark.django_db
def test_the_language_switch_returns_to_the_same_page(client, dataset):
    page = client.get("/search/?q=memory&platform=eks").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert 'name="next" value="/search/?q=memory&amp;platform=eks"' in page
    response = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/search/?q=memory&platform=eks"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=memory&platform=eks"
    body = client.get(response["Location"]).content.decode()
    assert "筛选条件" in body
    # The choice outlives Accept-Language, and switching back works the same way.
    assert "最新案例" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post("/i18n/setlang/", {"language": "en-gb", "next": "/"})
    assert "Newest stories" in client.get("/", **ZH).content.decode()


@pytest.mark.django_db
def test_the_switch_refuses_to_send_the_reader_elsewhere(client, dataset):
    response = client.post(
        "/i18n/setlang/",
        {"language": "zh-hans", "next": "https://evil.example/"},
        HTTP_REFERER="https://evil.example/",
    )
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_dates_are_localised(client, make_story):
    make_story(slug="dated", title="A dated story", published_date=datetime.date(2019, 3, 5))
    english = client.get("/stories/dated/").content.decode()
    chinese = client.get("/stories/dated/", **ZH).content.decode()
    assert "5 March 2019" in english or "5 Mar 2019" in english
    assert "2019年3月5日" in chinese
