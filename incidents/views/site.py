"""Site-wide odds and ends that are not pages: the /favicon.ico browsers ask for."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers and crawlers request /favicon.ico whatever the page's <link rel="icon"> says:
    send them to the logo (its hashed static URL in production) instead of a 404."""
    return HttpResponsePermanentRedirect(static("img/logo.svg"))
