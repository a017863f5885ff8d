"""OpenAPI plumbing for drf-spectacular: operation tags and IDs, the shared error responses and
request-body shapes. Views declare their schema with these; nothing here runs per request."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from incidents.api.serializers import ErrorSerializer

ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Bad request: invalid parameter or body (see error.code).",
        401: "No or invalid token.",
        403: "The token's user lacks the permission.",
        404: "Not found.",
        406: "Not acceptable.",
        412: "If-Match does not match the current ETag.",
        413: "Request body too large.",
        415: "Unsupported Content-Type.",
        428: "If-Match is required.",
        429: "Throttled; see Retry-After.",
    }.items()
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses of an operation: the ones every operation has, plus `codes`."""
    return {code: ERRORS[code] for code in (400, 406, 413, 429, *codes)}


def multipart_files(field: str) -> dict[str, Any]:
    """A multipart/form-data body of one repeatable file field."""
    return {
        "type": "object",
        "properties": {field: {"type": "array", "items": {"type": "string", "format": "binary"}}},
        "required": [field],
    }


JSON_OBJECT = {"type": "object", "additionalProperties": True}


class KBAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        """Tag operations by resource: /api/v1/stories/... -> "stories"."""
        parts = [p for p in self.path.removeprefix("/api/v1/").split("/") if p]
        return [parts[0] if parts else "api"]

    def get_operation_id(self) -> str:
        """stories_list, stories_retrieve, check_post...: stable and readable."""
        action = getattr(self.view, "action", None) or self.method.lower()
        return f"{self.get_tags()[0]}_{action}"

    def _is_list_view(self, serializer=None) -> bool:
        """Our list responses are page objects declared explicitly, never bare arrays."""
        return False
