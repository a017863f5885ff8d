"""Suggest a story: a small public form that leaves a draft in the curators' queue.

Spam defences: CSRF (Django's middleware), a honeypot field people never see (bots that fill
it get a normal-looking thank-you and nothing is stored), and a per-address rate limit kept in
the shared cache. A known source URL is recognised and answered with the existing story.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from incidents import ratelimit, services
from incidents.forms import SuggestForm
from incidents.middleware import client_address
from incidents.models import Status

RATE = "5/hour"  # suggestions per client address


def suggest(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "incidents/suggest.html", {"form": SuggestForm()})
    form = SuggestForm(request.POST)
    if not form.is_valid():
        return render(request, "incidents/suggest.html", {"form": form}, status=400)
    if form.is_spam:
        return redirect("incidents:suggest_thanks")
    address = client_address(request)
    decision = ratelimit.consume("suggest", ratelimit.client_key(request), RATE)
    if not decision.allowed:
        response = render(
            request,
            "incidents/suggest.html",
            {"form": form, "rate_limited": True, "retry_minutes": -(-decision.retry_after // 60)},
            status=429,
        )
        response["Retry-After"] = str(decision.retry_after)
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
