"""The three slash-command endpoints. Each one verifies first: a request that fails verification
gets 401 and nothing else (no search is run, nothing about the KB is revealed)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents.api.errors import json_error
from incidents.chat import mattermost, slack, teams
from incidents.chat.replies import Reply, answer

MAX_BODY_BYTES = 64 * 1024


def _render(render: Callable[[Reply], dict], reply: Reply) -> dict:
    """Format a reply with the platform's labels in the reply's language."""
    with translation.override(reply.language):
        return render(reply)


def _refuse() -> JsonResponse:
    return json_error("unauthorized", "Request verification failed.", 401)


def _guarded(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """POST only, no CSRF (the platforms sign requests instead), a small body."""

    @csrf_exempt
    @require_POST
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = MAX_BODY_BYTES + 1
        if length > MAX_BODY_BYTES:
            return json_error("body_too_large", "The request body is too large.", 413)
        return view(request)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_guarded
def slack_command(request: HttpRequest) -> HttpResponse:
    """Slash command (`command` + `text`) or a "Share in channel" click (`payload`)."""
    if not slack.verify(request):
        return _refuse()
    if "payload" in request.POST:
        interaction = slack.parse_interaction(request)
        if interaction is not None:
            text, response_url, user = interaction
            reply = answer(text)
            with translation.override(reply.language):
                message = slack.render(reply, shared_by=user or None)
            slack.post_to_response_url(response_url, message)
        return HttpResponse(status=200)
    return JsonResponse(_render(slack.render, answer(request.POST.get("text", ""))))


@_guarded
def mattermost_command(request: HttpRequest) -> HttpResponse:
    if not mattermost.verify(request):
        return _refuse()
    return JsonResponse(_render(mattermost.render, answer(request.POST.get("text", ""))))


@_guarded
def teams_command(request: HttpRequest) -> HttpResponse:
    if not teams.verify(request):
        return _refuse()
    text = teams.parse(request)
    if text is None:
        return json_error("malformed_body", "Expected a Teams message activity (JSON).", 400)
    return JsonResponse(_render(teams.render, answer(text)))
