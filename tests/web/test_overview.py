"""The overview page: accessible server-side SVG charts and the rules-by-stories coverage."""

from __future__ import annotations

import re

import pytest

from incidents import charts
from tests.web.conftest import assert_csp_clean


@pytest.mark.django_db
def test_overview_draws_accessible_svg_charts(client, dataset):
    body = client.get("/overview/").content.decode()
    svgs = re.findall(r"<svg [^>]*>", body)
    assert len(svgs) >= 5  # year, platform, category, kind, coverage
    assert all('role="img"' in s and "aria-labelledby" in s for s in svgs)
    assert "<title" in body
    assert "2019: 1 story; 2020: 0 stories; 2021: 2 stories." in body  # the desc has the data
    assert "Show as a table" in body
    assert_csp_clean(body)


@pytest.mark.django_db
def test_coverage_names_stories_no_rule_catches_and_rules_no_story_backs(client, dataset):
    body = client.get("/overview/").content.decode()
    uncaught = body.split("Stories no rule catches yet")[1].split("</div>")[0]
    assert dataset["other"].title in uncaught
    assert dataset["oom"].title not in uncaught  # linked to KB002
    assert "Rules no story backs" in body


def test_chart_labels_are_escaped():
    svg = charts.hbar_chart([charts.Bar("<script>x</script>", 3)], title="t & <b>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "t &amp; &lt;b&gt;" in svg


def test_chart_colours_come_from_css_classes_not_inline_styles():
    svg = charts.column_chart([charts.Bar("2020", 2), charts.Bar("2021", 0)], title="Years")
    assert "style=" not in svg and "fill=" not in svg and 'class="bar bar--1"' in svg
