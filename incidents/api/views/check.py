"""POST /api/v1/check/: check Kubernetes manifests against the rules, as `kbcheck` does."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from incidents import selectors
from incidents.api.base import KBApiMixin
from incidents.api.errors import ApiError, BodyTooLarge
from incidents.api.filters import CheckQuerySerializer, parse_query
from incidents.api.parsers import MANIFEST_PARSERS, RawBody
from incidents.api.schema import JSON_OBJECT, errors, multipart_files

# Input errors and warnings listed in a check's answer (all are counted in its summary): a 1 MiB
# file of duplicate keys has 200,000, which made a 21-30 MB response.
MAX_LISTED_ERRORS = 100
STREAM_FINDINGS = 1000  # above this, a JSON check report is streamed


class CheckView(KBApiMixin, APIView):
    """Check Kubernetes manifests against the rules, as `kbcheck` does."""

    parser_classes = MANIFEST_PARSERS
    permission_classes = [permissions.AllowAny]
    max_body_bytes_setting = "DATA_UPLOAD_MAX_MEMORY_SIZE"

    @extend_schema(
        summary="Check manifests (YAML or JSON; raw body or multipart field `manifests`)",
        parameters=[CheckQuerySerializer],
        request={
            "application/yaml": {"type": "string"},
            "application/x-yaml": {"type": "string"},
            "text/yaml": {"type": "string"},
            "application/json": JSON_OBJECT,
            "multipart/form-data": multipart_files("manifests"),
        },
        responses={
            200: OpenApiResponse(
                JSON_OBJECT,
                description="The report, as `kbcheck --format json` (or SARIF 2.1.0) prints it. "
                "Header KB-Check-Exit-Code: 0 clean, 1 findings at or above fail_on, 2 input "
                "errors in some documents. Input of which nothing could be checked is a 400 "
                "(code `invalid_manifests`, the errors in `details`).",
            ),
            **errors(415),
        },
        examples=[
            OpenApiExample(
                "A Deployment",
                value="apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
                request_only=True,
                media_type="application/yaml",
            )
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        from incidents.rules.engine import UsageError, check_inputs
        from incidents.rules.formats import StoryCache, render
        from incidents.rules.formats.json import iter_json
        from incidents.rules.parsing import Limits

        params = parse_query(CheckQuerySerializer, request.query_params)
        inputs = _manifest_inputs(request)
        limits = Limits(max_bytes=settings.KB_MAX_MANIFEST_BYTES)
        try:
            report = check_inputs(inputs, skip=params.get("skip") or (), limits=limits)
        except UsageError as exc:
            raise ApiError(
                str(exc), code="invalid_parameter", details={"skip": [str(exc)]}
            ) from None
        if report.errors and not report.objects:
            raise _unreadable(report)
        resolve = selectors.report_story_resolver(absolute=request.build_absolute_uri)

        def rule_url(rule_id: str) -> str:
            return request.build_absolute_uri(reverse("incidents:rule", args=[rule_id]))

        if params["format"] == "json" and (
            len(report.findings) > STREAM_FINDINGS
            or len(report.errors) > MAX_LISTED_ERRORS
            or len(report.warnings) > MAX_LISTED_ERRORS
        ):
            # Streamed: a 5 MB input can have 100,000 findings (120 MB of JSON, 500 MB as one
            # structure and string); this keeps one finding at a time.
            chunks = iter_json(
                report,
                stories=StoryCache(resolve),
                rule_url=rule_url,
                max_listed=MAX_LISTED_ERRORS,
            )
            response = StreamingHttpResponse(
                (c.encode() for c in chunks), content_type="application/json"
            )
        else:
            body = render(report, params["format"], story_resolver=resolve, rule_url=rule_url)
            response = HttpResponse(body, content_type="application/json")
        response["KB-Check-Exit-Code"] = str(report.exit_code(params["fail_on"]))
        return response


def _unreadable(report) -> ApiError:
    """Nothing could be checked (an alias bomb, nesting too deep, every document malformed):
    bad input, answered as kbcheck's exit code 2 is, with a 400 naming the first error."""
    first = report.errors[0]
    where = ", ".join(
        part
        for part in (
            f"document {first.document + 1}" if first.document is not None else "",
            f"line {first.line}" if first.line else "",
        )
        if part
    )
    details: dict[str, Any] = {
        "errors": [error.as_dict() for error in report.errors[:MAX_LISTED_ERRORS]]
    }
    if len(report.errors) > MAX_LISTED_ERRORS:
        details["errors_not_listed"] = len(report.errors) - MAX_LISTED_ERRORS
    return ApiError(
        f"The manifests could not be checked: {first.message}" + (f" ({where})" if where else ""),
        code="invalid_manifests",
        details=details,
    )


def _manifest_inputs(request: Request) -> list[tuple[str | None, bytes | str]]:
    data = request.data
    if isinstance(data, RawBody):
        inputs: list[tuple[str | None, bytes | str]] = [(None, data.content)]
    elif hasattr(request, "FILES") and (request.FILES or hasattr(data, "getlist")):
        inputs = [(f.name, f.read()) for f in request.FILES.getlist("manifests")]
        inputs += [(None, text) for text in data.getlist("manifests") if isinstance(text, str)]
        total = sum(len(content) for _, content in inputs)
        if total > settings.KB_MAX_MANIFEST_BYTES:
            raise BodyTooLarge(settings.KB_MAX_MANIFEST_BYTES)
    else:
        inputs = []
    if not inputs or not any(content.strip() for _, content in inputs):
        raise ApiError(
            "No manifests: send YAML or JSON as the body (Content-Type application/yaml or "
            "application/json) or as the multipart file field `manifests`.",
            code="no_manifests",
        )
    return inputs
