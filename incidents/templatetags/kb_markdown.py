from django import template
from django.utils.safestring import mark_safe

from incidents.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    """Render curated Markdown; the output is sanitised by nh3, hence safe to mark."""
    return mark_safe(render_markdown(text or ""))
