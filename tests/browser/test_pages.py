"""Every public page on a desktop and a 390 px phone: accessible (axe-core), no console errors,
no sideways scrolling; and the keyboard and mobile behaviours people rely on."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from incidents.models import Rule, StoryRule
from incidents.rules.registry import REGISTRY
from tests.browser.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = ["desktop", "mobile"]
CODE = (
    'sum by (server, zone) (rate(coredns_dns_responses_total{rcode="SERVFAIL"}[5m])) '
    "/ sum by (server, zone) (rate(coredns_dns_responses_total[5m])) > 0.01"
)
LONG_URL = "https://example.com/" + "a-rather-long-path-segment/" * 5 + "postmortem.html"


@pytest.fixture
def site(vocabulary, make_story, search_index):
    """The rules, three published stories (one with a wide code block and a long source URL)."""
    call_command("sync_rules", stdout=io.StringIO())
    dns = make_story(
        slug="coredns-oom",
        title="CoreDNS ran out of memory",
        source_url=LONG_URL,
        categories=[vocabulary["dns"], vocabulary["networking"]],
        technologies=[vocabulary["coredns"]],
        detection=f"Alert on the SERVFAIL ratio:\n\n```\n{CODE}\n```\n",
    )
    make_story(
        slug="node-oom",
        title="Nodes died of memory pressure",
        platform="eks",
        summary="A pod without a memory limit used up the node's memory.",
        technologies=[vocabulary["oom-killer"]],
    )
    make_story(slug="ingress-502", title="Ingress returned 502 during deploys", platform="aks")
    StoryRule.objects.create(
        story=dns, rule=Rule.objects.get(rule_id="KB002"), note="CoreDNS had a low limit."
    )
    search_index()
    return {"dns": dns}


def public_pages() -> list[str]:
    runtime = next(r.id for r in REGISTRY.all() if r.rule_type == "runtime")
    return [
        "/",
        "/search/?q=memory",
        "/search/?q=qqqzzzx",
        "/stories/",
        "/stories/coredns-oom/",
        "/categories/dns/",
        "/technologies/coredns/",
        "/platforms/gke/",
        "/rules/",
        "/rules/KB001/",
        "/rules/KB002/",
        f"/rules/{runtime}/",
        "/check/",
        "/exposure/",
        "/overview/",
        "/data/",
        "/suggest/",
        "/suggest/thanks/",
        "/no-such-page/",
    ]


def _page_problems(page, path: str) -> list[str]:
    problems = [f"{path}: {v}" for v in axe_violations(page)]
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if wide > 0:
        problems.append(f"{path}: scrolls sideways by {wide}px")
    expected = ["status of 404"] if path == "/no-such-page/" else []
    errors = [e for e in page.console_errors if not any(x in e for x in expected)]
    problems += [f"{path}: console: {e}" for e in errors]
    page.console_errors.clear()
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_public_page_is_accessible_fits_the_screen_and_logs_no_error(
    open_page, site, viewport
):
    page = open_page(viewport)
    problems = []
    for path in public_pages():
        response = page.goto(path)
        assert response.status == (404 if path == "/no-such-page/" else 200), path
        problems += _page_problems(page, path)
    # The check page with findings on it.
    page.goto("/check/")
    page.get_by_label("Paste manifests").fill(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
        "spec: {containers: [{name: web, image: 'nginx:latest'}]}\n"
    )
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_selector("#results")
    problems += _page_problems(page, "/check/ (results)")
    screenshot(page, f"check-results-{viewport}")
    assert problems == []


def test_mobile_search_has_a_filters_control_above_the_results(open_page, site):
    page = open_page("mobile")
    page.goto("/search/?q=memory")
    toggle = page.locator("summary", has_text="Filters")
    first_result = page.locator(".story-item").first
    assert toggle.is_visible()
    assert toggle.bounding_box()["y"] < first_result.bounding_box()["y"]
    assert not page.get_by_role("checkbox", name="EKS").is_visible()  # folded away
    screenshot(page, "search-mobile-filters-closed")
    toggle.click()
    page.get_by_role("checkbox", name="EKS").check()
    page.wait_for_url(re.compile(r"platform=eks"))
    assert page.locator(".story-item").count() == 1
    assert page.locator("summary", has_text="Filters (1)").is_visible()
    assert page.console_errors == []


def test_desktop_search_shows_the_filters_beside_the_results_without_a_toggle(open_page, site):
    page = open_page("desktop")
    page.goto("/search/?q=memory")
    assert not page.locator("summary", has_text="Filters").is_visible()
    facet = page.get_by_role("checkbox", name="EKS")
    assert facet.is_visible()
    assert facet.bounding_box()["x"] < page.locator(".story-item").first.bounding_box()["x"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_space_on_a_facet_applies_it_and_keeps_the_focus_there(open_page, site, viewport):
    page = open_page(viewport)
    page.goto("/search/?q=memory")
    if viewport == "mobile":
        page.locator("summary", has_text="Filters").focus()
        page.keyboard.press("Enter")  # open the panel from the keyboard
    page.get_by_role("checkbox", name="EKS").focus()
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"platform=eks"))
    page.wait_for_load_state()
    focused = page.evaluate(
        "() => [document.activeElement.name, document.activeElement.value, "
        "document.activeElement.checked]"
    )
    assert focused == ["platform", "eks", True]
    page.keyboard.press("Space")  # and off again, still from the same place
    page.wait_for_url(lambda url: "platform=eks" not in url)
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.value") == "eks"
    assert page.console_errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_wide_code_block_is_reached_and_scrolled_with_the_keyboard(open_page, site, viewport):
    page = open_page(viewport)
    page.goto("/stories/coredns-oom/")
    block = page.locator(".story-body pre")
    assert block.get_attribute("tabindex") == "0"
    assert block.get_attribute("aria-label")
    assert page.evaluate("(el) => el.scrollWidth > el.clientWidth", block.element_handle())
    for _ in range(80):  # Tab through the page until the block has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "PRE":
            break
    assert page.evaluate("document.activeElement.tagName") == "PRE"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_story_page_jumps_to_fix_and_detection_and_copies_code(open_page, site, viewport):
    page = open_page(viewport)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/stories/coredns-oom/")
    jumps = page.get_by_role("navigation", name="On this page")
    jumps.get_by_role("link", name="Detection").click()
    page.wait_for_url("**#s-detection")
    heading = page.get_by_role("heading", name="Detection", level=2)
    page.wait_for_function(
        "(h) => { const r = h.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight }",
        arg=heading.element_handle(),
    )
    jumps.get_by_role("link", name="Fix").click()
    page.wait_for_url("**#s-fix")
    copy = page.get_by_role("button", name="Copy this code")
    assert copy.count() == 1
    copy.click()
    page.wait_for_function("() => document.querySelector('.copy-code').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == CODE
    screenshot(page, f"story-{viewport}")
    assert page.console_errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_rule_pages_do_not_scroll_sideways_with_long_reference_urls(open_page, site, viewport):
    page = open_page(viewport)
    for rule in REGISTRY.all():
        if not any(len(ref) > 40 for ref in rule.references):
            continue
        page.goto(f"/rules/{rule.id}/")
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"/rules/{rule.id}/ scrolls sideways by {wide}px"


def test_api_docs_render_under_the_content_security_policy(open_page, db):
    page = open_page("desktop")
    response = page.goto("/api/docs/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    page.wait_for_selector(".opblock")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.console_errors == []


def _log_in(page, curator) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("pw-curator-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_admin_history_page_logs_no_csp_violation(open_page, site, curator):
    page = open_page("desktop")
    _log_in(page, curator)
    page.goto(f"/admin/incidents/story/{site['dns'].pk}/history/")
    assert page.get_by_role("heading", name=re.compile("Change history")).is_visible()
    assert page.console_errors == []


def test_admin_markdown_fields_are_wide_beside_their_preview(open_page, site, curator):
    page = open_page("desktop")
    _log_in(page, curator)
    page.goto(f"/admin/incidents/story/{site['dns'].pk}/change/")
    field = page.locator("#id_detection")
    preview = field.locator("xpath=following-sibling::div[contains(@class, 'kb-preview')]")
    preview.locator("pre").wait_for()
    screenshot(page, "admin-change-form")
    box, shown = field.bounding_box(), preview.bounding_box()
    assert box["width"] > 350
    assert shown["x"] >= box["x"] + box["width"] - 1  # beside it, not under it
    assert abs(shown["y"] - box["y"]) < 40
    assert box["width"] > shown["width"]  # the text being edited gets the larger share
    assert page.console_errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_error_pages_are_styled_and_debug_pages_survive_the_csp(
    open_page, site, settings, viewport
):
    settings.ROOT_URLCONF = "tests.web.test_error_pages"  # the site plus /boom/, which fails
    page = open_page(viewport)
    styled = "() => getComputedStyle(document.body).marginTop === '0px'"  # base.css applied
    for path, status in [("/no-such-page/", 404), ("/boom/", 500)]:
        assert page.goto(path).status == status
        assert page.evaluate(styled), path
        assert page.locator(".site-header").is_visible()
        assert page.get_by_role("heading", level=1).is_visible()
        assert axe_violations(page) == [], path
        screenshot(page, f"error-{status}-{viewport}")
    settings.DEBUG = True  # Django's own pages, with their inline styles and script
    for path, status in [("/no-such-page/", 404), ("/boom/", 500)]:
        page.console_errors.clear()
        assert page.goto(path).status == status
        summary = "() => getComputedStyle(document.getElementById('summary')).backgroundColor"
        assert page.evaluate(summary) not in ("rgba(0, 0, 0, 0)", "transparent"), path
        assert [e for e in page.console_errors if f"status of {status}" not in e] == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_chinese_pages_are_translated_accessible_and_fit_the_screen(
    open_page, site, settings, viewport
):
    """A reader whose browser asks for Chinese: every public page in zh-Hans passes the same
    checks as in English (Chinese labels change widths and accessible names), and the interface
    added last (filters, jump links, copy buttons, scrolling regions, error pages) is in Chinese."""
    settings.ROOT_URLCONF = "tests.web.test_error_pages"  # the site plus /boom/, which fails
    page = open_page(viewport, locale="zh-CN")  # sends Accept-Language: zh-CN
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    problems = []
    for path in public_pages():
        page.goto(path)
        assert page.evaluate("document.documentElement.lang") == "zh-Hans", path
        problems += _page_problems(page, path)
    assert problems == []

    page.goto("/search/?q=memory")
    assert page.locator("summary", has_text="筛选").is_visible() == (viewport == "mobile")
    page.goto("/stories/coredns-oom/")
    assert page.get_by_role("navigation", name="本页内容").is_visible()
    assert page.locator(".story-body pre").get_attribute("aria-label") == "代码块"
    copy = page.get_by_role("button", name="复制这段代码")
    assert copy.text_content() == "复制"
    copy.click()
    page.wait_for_function("() => document.querySelector('.copy-code').textContent === '已复制'")
    page.goto("/overview/")
    assert page.get_by_role("region", name="覆盖矩阵，可横向滚动").count() == 1
    page.goto("/data/")
    assert page.get_by_role("region", name="数据结构字段，可横向滚动").count() == 1
    page.goto("/rules/KB001/")
    assert page.get_by_role("region", name="静默此规则的注解").count() == 1
    assert page.get_by_role("region", name=re.compile("^不通过的示例：")).count() >= 1

    assert page.goto("/no-such-page/").status == 404
    assert page.get_by_role("heading", name="找不到页面", level=1).is_visible()
    assert page.get_by_role("link", name="全部规则").is_visible()
    assert page.goto("/boom/").status == 500
    assert page.get_by_role("heading", name="我们这边出了问题", level=1).is_visible()
    assert page.title().startswith("服务器错误")
    screenshot(page, f"error-500-zh-{viewport}")
