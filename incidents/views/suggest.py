"""Suggest a story: a small public form that leaves a draft in the curators' queue.

Spam defences: CSRF (Django's middleware), a honeypot field people never see (bots that fill
it get a normal-looking thank-you and nothing is stored), and a per-address rate limit kept in
the shared cache. A known source URL is recognised and answered with the existing story.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from incidents import services
from incidents.forms import SuggestForm
from incidents.models import Status

RATE_LIMIT = 5  # suggestions per address
RATE_WINDOW = 60 * 60  # seconds


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address KB_NUM_PROXIES hops from the right of X-Forwarded-For."""
    proxies = settings.KB_NUM_PROXIES
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h]
    return hops[-proxies] if len(hops) >= proxies else remote


def _over_limit(address: str) -> bool:
    """Count this attempt; True once the address used up its window's quota."""
    key = f"suggest-rate:{address}"
    if cache.add(key, 1, RATE_WINDOW):
        return False
    try:
        return cache.incr(key) > RATE_LIMIT
    except ValueError:  # expired between add and incr
        cache.add(key, 1, RATE_WINDOW)
        return False


def suggest(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "incidents/suggest.html", {"form": SuggestForm()})
    form = SuggestForm(request.POST)
    if not form.is_valid():
        return render(request, "incidents/suggest.html", {"form": form}, status=400)
    if form.is_spam:
        return redirect("incidents:suggest_thanks")
    address = client_address(request)
    if _over_limit(address):
        response = render(
            request, "incidents/suggest.html", {"form": form, "rate_limited": True}, status=429
        )
        response["Retry-After"] = str(RATE_WINDOW)
        return response
    story, created = services.story_suggest(
        url=form.cleaned_data["url"],
        title=form.cleaned_data["title"],
        what_happened=form.cleaned_data["what_happened"],
        submitted_from=address,
    )
    if not created:
        context = {
            "form": form,
            "known": story,
            "known_published": story.status == Status.PUBLISHED,
        }
        return render(request, "incidents/suggest.html", context)
    return redirect("incidents:suggest_thanks")


def suggest_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/suggest_thanks.html")
