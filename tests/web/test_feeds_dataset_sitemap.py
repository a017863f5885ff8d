"""Atom feeds, the dataset downloads with their schema, and the sitemap."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from incidents.views.dataset import NAMES

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.mark.django_db
def test_atom_feed_lists_published_stories(client, dataset):
    response = client.get("/feeds/stories.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert len(titles) == 3
    assert not any("Unpublished" in t for t in titles)


@pytest.mark.django_db
def test_category_feed_has_only_that_category(client, dataset):
    root = ET.fromstring(client.get("/feeds/categories/dns.atom").content)
    entries = list(root.iter(f"{ATOM}entry"))
    assert len(entries) == 1 and "CoreDNS" in entries[0].findtext(f"{ATOM}title")
    assert client.get("/feeds/categories/nope.atom").status_code == 404


@pytest.mark.django_db
def test_json_download_has_every_published_story_and_the_schema_fields(client, dataset):
    response = client.get("/data/stories.json")
    assert response["Content-Disposition"] == 'attachment; filename="k8s-failure-stories.json"'
    data = json.loads(response.getvalue())
    assert data["count"] == 3 and data["schema"].endswith("/data/schema.json")
    oom = next(s for s in data["stories"] if s["slug"] == "oom-at-acme")
    assert list(oom) == NAMES
    assert oom["rules"] == ["KB002"] and oom["technologies"] == ["oom-killer"]


@pytest.mark.django_db
def test_csv_download_has_a_header_row_and_joined_lists(client, dataset):
    response = client.get("/data/stories.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert len(rows) == 3 and list(rows[0]) == NAMES
    dns = next(r for r in rows if r["slug"] == "bluematador-node-oom")
    assert dns["categories"] == "dns; networking"


@pytest.mark.django_db
def test_csv_cells_that_start_like_a_formula_are_neutralised(client, dataset, make_story):
    make_story(
        slug="formulas",
        title='=HYPERLINK("http://evil.example","click")',
        organisation="+cmd|' /C calc'!A0",
        summary="-2+3",
        symptom="@SUM(1+1)",
    )
    response = client.get("/data/stories.csv")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    row = next(r for r in rows if r["slug"] == "formulas")
    assert row["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["organisation"].startswith("'+") and row["summary"] == "'-2+3"
    assert row["symptom"].startswith("'@")
    assert next(r for r in rows if r["slug"] == "oom-at-acme")["title"][0] != "'"


@pytest.mark.django_db
def test_schema_is_stated_on_the_page_and_as_json_schema(client, dataset):
    page = client.get("/data/").content.decode()
    for name in NAMES:
        assert f"<td>{name}</td>" in page
    schema = json.loads(client.get("/data/schema.json").content)
    assert set(schema["properties"]["stories"]["items"]["properties"]) == set(NAMES)


@pytest.mark.django_db
def test_sitemap_lists_stories_rules_and_pages_but_not_drafts(client, dataset):
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    sections = re.findall(
        r"<loc>http://testserver(/sitemap-[a-z]+\.xml)</loc>", index.content.decode()
    )
    assert sorted(sections) == [
        f"/sitemap-{s}.xml" for s in ("pages", "rules", "stories", "topics")
    ]
    body = "".join(client.get(path).content.decode() for path in sections)
    assert "/stories/oom-at-acme/" in body and "/rules/KB002/" in body
    assert "/categories/dns/" in body and "/overview/" in body
    assert "secret-draft" not in body


@pytest.mark.django_db
def test_the_story_sitemap_is_paged(client, dataset, monkeypatch):
    from incidents.sitemaps import StorySitemap

    monkeypatch.setattr(StorySitemap, "limit", 2)
    # Fresh URLs: the sitemaps are cached by URL, and a shared cache (Redis) outlives a test.
    index = client.get("/sitemap.xml?paged=1").content.decode()
    assert "/sitemap-stories.xml?p=2" in index
    first = client.get("/sitemap-stories.xml?paged=1").content.decode()
    second = client.get("/sitemap-stories.xml?p=2&paged=1").content.decode()
    assert first.count("<url>") == 2 and second.count("<url>") == 1


def test_sitemap_entries_are_the_markup_djangos_template_writes(settings):
    """The story sitemap writes its <url> elements in Python (incidents/sitemap.xml) for speed;
    search engines must get what Django's own sitemap template writes, byte for byte."""
    import datetime

    from django.template.loader import render_to_string

    settings.TIME_ZONE = "Asia/Shanghai"  # lastmod is the day where the site is
    late = datetime.datetime(2024, 3, 1, 20, 30, tzinfo=datetime.UTC)  # 2 March in Shanghai
    urlset = [
        {"location": "https://kb.example/stories/a&b/", "lastmod": late,
         "changefreq": "monthly", "priority": "0.8", "alternates": []},
        {"location": "https://kb.example/rules/KB001/", "lastmod": datetime.date(2023, 1, 9),
         "changefreq": None, "priority": "", "alternates": [
             {"lang_code": "zh-hans", "location": "https://kb.example/zh/rules/KB001/?a='1'"}]},
        {"location": "https://kb.example/", "lastmod": None, "changefreq": "daily",
         "priority": "0.7", "alternates": []},
    ]  # fmt: skip
    ours = render_to_string("incidents/sitemap.xml", {"urlset": urlset})
    assert ours == render_to_string("sitemap.xml", {"urlset": urlset})
    assert "<lastmod>2024-03-02</lastmod>" in ours and "a&amp;b" in ours


@pytest.mark.django_db
def test_downloads_follow_a_story_change(client, dataset, make_story):
    before = json.loads(client.get("/data/stories.json").getvalue())
    assert json.loads(client.get("/data/stories.json").getvalue()) == before  # built once
    make_story(slug="brand-new", title="A brand new story")
    after = json.loads(client.get("/data/stories.json").getvalue())
    assert after["count"] == before["count"] + 1
    assert "brand-new" in client.get("/data/stories.csv").getvalue().decode()


@pytest.mark.django_db
def test_atom_feed_of_a_fresh_install_is_dated_by_the_stories_and_newest_first(client):
    """`make setup` loads every curated file at once: the entries must not all carry the load
    time (in reverse file order) but each story's own date, newest first."""
    import io

    from django.core.management import call_command

    from incidents.models import Story

    call_command("load_stories", stdout=io.StringIO())
    root = ET.fromstring(client.get("/feeds/stories.atom").content)
    entries = list(root.iter(f"{ATOM}entry"))
    published = [e.findtext(f"{ATOM}published") for e in entries]
    assert len(published) == 30
    assert published == sorted(published, reverse=True)
    assert len(set(published)) > 3  # not one install timestamp for all
    newest = Story.objects.filter(status="published").order_by("-published_at").first()
    assert newest.year == max(Story.objects.values_list("year", flat=True))
    assert entries[0].findtext(f"{ATOM}title").startswith(newest.title)
    # Nothing was edited after loading: updated is the publication date.
    assert [e.findtext(f"{ATOM}updated") for e in entries] == published
    assert published[0].startswith(str(newest.year))
