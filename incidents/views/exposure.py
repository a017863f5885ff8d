"""`/exposure/`: upload a cluster snapshot, see which stories could happen on that cluster."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from incidents import ratelimit
from incidents.exposure.formats import report_as_dict
from incidents.exposure_report import exposure_report
from incidents.forms import SnapshotForm

TEMPLATE = "incidents/exposure.html"


def exposure(request: HttpRequest) -> HttpResponse:
    form = SnapshotForm(request.POST, request.FILES) if request.method == "POST" else SnapshotForm()
    context: dict[str, Any] = {"form": form}
    if request.method != "POST":
        return render(request, TEMPLATE, context)
    decision = ratelimit.consume(
        "web-check", ratelimit.client_key(request), settings.KB_WEB_CHECK_THROTTLE
    )
    if not decision.allowed:
        context.update(rate_limited=True, retry_after=decision.retry_after)
        response = render(request, TEMPLATE, context, status=429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    report, resolve = exposure_report(
        form.cleaned_data["snapshot"], absolute=request.build_absolute_uri
    )
    data = report_as_dict(report, story_resolver=resolve)
    readable = report.snapshot.objects or report.snapshot.server_version
    context.update(
        data=data,
        readable=bool(readable),
        groups=[
            (status, label, [s for s in data["stories"] if s["status"] == status])
            for status, label in (
                ("exposed", _("Could happen here")),
                ("unknown", _("Cannot tell from the snapshot")),
                ("not_applicable", _("Does not apply")),
            )
        ],
    )
    return render(request, TEMPLATE, context, status=200 if readable else 400)
