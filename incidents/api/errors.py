"""One error format for every 4xx the API returns.

    {"error": {"code": "invalid_filter", "message": "A human sentence.", "details": {...}}}

`code` is stable and machine-readable; `message` is for people; `details` is present when there
is more to say (per-field validation messages, the allowed values). DRF's own exceptions, Django's
Http404/PermissionDenied, request bodies over the size limit, malformed JSON and validation errors
all go through `exception_handler` (wired as REST_FRAMEWORK["EXCEPTION_HANDLER"]), so a client
needs exactly one error parser.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

# DRF exception class -> our code, where DRF's own default code is not the one we document.
_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "malformed_body",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


class ApiError(exceptions.APIException):
    """An API error with an explicit code, message and optional details."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.details = details
        self.headers = headers or {}


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than the limit of {limit} bytes.",
            code="body_too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            details={"limit_bytes": limit},
        )


MAX_MESSAGE_CHARS = 500
MAX_DETAIL_CHARS = 300  # each string in `details`
MAX_DETAIL_ITEMS = 50  # each list or mapping in `details`


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The error document, bounded: messages often quote the rejected value (`"<script>..."
    is not a valid choice`), and a client must not be able to make an error as big as its
    request. Strings are cut (with "…"), long lists and mappings shortened."""
    error: dict[str, Any] = {"code": code, "message": _cut(str(message), MAX_MESSAGE_CHARS)}
    if details not in (None, {}, []):
        error["details"] = _bounded(details)
    return {"error": error}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return "…"
    if isinstance(value, str):
        return _cut(value, MAX_DETAIL_CHARS)
    if isinstance(value, dict):
        items = list(value.items())[:MAX_DETAIL_ITEMS]
        return {_cut(str(k), 100): _bounded(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [_bounded(v, depth + 1) for v in value[:MAX_DETAIL_ITEMS]]
    return value


def flatten_errors(detail: Any) -> Any:
    """DRF ErrorDetail trees -> plain str/list/dict for `details`."""
    if isinstance(detail, dict):
        return {str(k): flatten_errors(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [flatten_errors(v) for v in detail]
    return str(detail)


def first_leaf(detail: Any) -> str:
    """The first message in an error tree."""
    while isinstance(detail, dict | list) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail) if detail not in ({}, []) else "invalid"


def _validation_message(details: Any) -> str:
    if isinstance(details, dict) and details:
        field, problems = next(iter(details.items()))
        if field == "non_field_errors":
            return first_leaf(problems)
        return f"{field}: {first_leaf(problems)}"
    if isinstance(details, list) and details:
        return first_leaf(details)
    return "The request is not valid."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn any client error into the one JSON shape; let real bugs surface as 500s."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if exc.args else "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        from django.conf import settings

        exc = BodyTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, SuspiciousOperation):
        exc = ApiError("The request was refused as malformed.", code="bad_request")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if not isinstance(exc, exceptions.APIException):
        return None

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))

    if isinstance(exc, ApiError):
        headers.update(exc.headers)
        body = error_body(exc.error_code, str(exc.detail), exc.details)
    elif isinstance(exc, exceptions.ValidationError):
        details = flatten_errors(exc.detail)
        body = error_body("invalid", _validation_message(details), details)
    else:
        code = _CODES.get(type(exc)) or next(
            (c for cls, c in _CODES.items() if isinstance(exc, cls)), None
        )
        if code is None:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else "error"
        message = str(exc.detail) if not isinstance(exc.detail, list | dict) else str(exc)
        if isinstance(exc, exceptions.Throttled):
            message = "Too many requests. Retry after the number of seconds in Retry-After."
        body = error_body(code, message)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def json_error(
    code: str, message: str, status_code: int, details: Any = None, **headers: str
) -> JsonResponse:
    """The same error body from a plain Django view (chat endpoints, the API's 404 catch-all)."""
    response = JsonResponse(error_body(code, message, details), status=status_code)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's format, not with the HTML 404 page."""
    return json_error("not_found", "There is no API endpoint at this path.", 404)
