"""Every Markdown field renders through one sanitising function."""

from __future__ import annotations

import pytest

from incidents.markdown import render_markdown

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<div onclick="alert(1)">x</div>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
]


@pytest.mark.parametrize("payload", ATTACKS)
def test_dangerous_html_never_survives_rendering(payload):
    html = render_markdown(f"Before {payload} after").lower()
    for needle in ("<script", "onerror", "onclick", "javascript:", "<iframe", "data:text"):
        assert needle not in html


def test_ordinary_markdown_keeps_its_structure():
    html = render_markdown("**bold** [docs](https://kubernetes.io)\n\n```\nkubectl get pods\n```")
    assert "<strong>bold</strong>" in html
    assert 'href="https://kubernetes.io"' in html
    # Code blocks are named regions reachable with Tab: a wide one scrolls sideways.
    assert '<pre tabindex="0" role="region" aria-label="Code block"><code>kubectl get pods' in html


def test_mailto_links_are_allowed():
    assert 'href="mailto:sre@example.com"' in render_markdown("[mail](mailto:sre@example.com)")


@pytest.mark.django_db
def test_story_page_renders_hostile_story_text_without_scripts(client, make_story):
    story = make_story(symptom="<script>alert('x')</script> <img src=x onerror=alert(1)>")
    body = client.get(story.get_absolute_url()).content.decode()
    assert "<script>alert" not in body
    assert "onerror" not in body
