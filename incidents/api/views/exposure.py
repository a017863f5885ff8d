"""`POST /api/v1/exposure/`: which stories could happen on this cluster?

The body is a cluster snapshot as `deploy/snapshot.sh` collects it: the multipart file field
`snapshot` (repeat it for each file) or one JSON body (a single snapshot document, or an array
of them: `jq -s . snapshot/*.json`). Nothing is stored.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.views import APIView

from incidents.api.base import KBApiMixin
from incidents.api.errors import ApiError, BodyTooLarge
from incidents.api.parsers import RawBody, RawJSONParser
from incidents.api.schema import JSON_OBJECT, errors, multipart_files
from incidents.exposure.formats import render
from incidents.exposure_report import exposure_report

FORMATS = ("json", "sarif")


class SnapshotJSONParser(RawJSONParser):
    limit_setting = "KB_MAX_SNAPSHOT_BYTES"


class ExposureView(KBApiMixin, APIView):
    """Match a read-only cluster snapshot against the stories' exposure conditions."""

    parser_classes = [SnapshotJSONParser, MultiPartParser]
    permission_classes = [permissions.AllowAny]
    max_body_bytes_setting = "KB_MAX_SNAPSHOT_BYTES"

    @extend_schema(
        summary="Exposure report for a cluster snapshot (deploy/snapshot.sh)",
        parameters=[
            OpenApiParameter("format", str, enum=FORMATS, description="json (default) or sarif")
        ],
        request={
            "application/json": JSON_OBJECT,
            "multipart/form-data": multipart_files("snapshot"),
        },
        responses={
            200: OpenApiResponse(
                JSON_OBJECT,
                description="Stories that match (with the evidence), that cannot be decided, "
                "that do not apply (with the reason), the stories with no known conditions, "
                "and the manifest findings on the snapshot's objects. Or SARIF 2.1.0.",
            ),
            **errors(415),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        fmt = request.query_params.get("format", "json")
        unknown = set(request.query_params) - {"format"}
        if unknown:
            name = sorted(unknown)[0][:40]
            raise ApiError(f"Unknown parameter {name!r}.", code="unknown_parameter")
        if fmt not in FORMATS:
            raise ApiError(
                "format must be json or sarif.",
                code="invalid_parameter",
                details={"format": ["json or sarif"]},
            )
        files = _snapshot_files(request)
        report, resolve = exposure_report(files, absolute=request.build_absolute_uri)
        snapshot = report.snapshot
        if not snapshot.objects and snapshot.server_version is None:
            first = snapshot.errors[0].message if snapshot.errors else "no Kubernetes objects"
            raise ApiError(
                f"The snapshot could not be read: {first[:200]}",
                code="invalid_snapshot",
                details={"errors": [e.as_dict() for e in snapshot.errors[:20]]},
            )
        body = render(report, fmt, story_resolver=resolve)
        return HttpResponse(body, content_type="application/json")


def _snapshot_files(request: Request) -> list[tuple[str, bytes | str]]:
    data = request.data
    if isinstance(data, RawBody):
        files: list[tuple[str, bytes | str]] = [("body", data.content)]
    elif hasattr(data, "getlist"):
        files = [(f.name, f.read()) for f in request.FILES.getlist("snapshot")]
        if sum(len(content) for _, content in files) > settings.KB_MAX_SNAPSHOT_BYTES:
            raise BodyTooLarge(settings.KB_MAX_SNAPSHOT_BYTES)
    else:
        files = []
    if not any(content.strip() for _, content in files):
        raise ApiError(
            "No snapshot: send the files deploy/snapshot.sh writes as the multipart file field "
            "`snapshot`, or one JSON body (Content-Type application/json).",
            code="no_snapshot",
        )
    return files
