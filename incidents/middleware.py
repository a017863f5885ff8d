"""Production middleware: security headers Django does not set, and one JSON log line per request.

Django's SecurityMiddleware already sends nosniff, the referrer policy, COOP and (on HTTPS) HSTS;
this adds a Content-Security-Policy without `unsafe-inline` and a Permissions-Policy. Our pages,
the admin (Django 5.2 ships no inline scripts: its "inline" scripts are external files with data
attributes, or `type="application/json"` data blocks that CSP does not execute) and the API docs
(drf-spectacular's split Swagger view loads its init script from a URL) all run under it.

A view that needs a different policy sets its own `Content-Security-Policy` header; this
middleware never overwrites one that is already there. With DEBUG on, Django's own error pages
(inline styles and script) get the policy with 'unsafe-inline' so they stay readable.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

request_logger = logging.getLogger("kb.request")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Path logged at most this long: a 50 MiB URL must not become a 50 MiB log line.
_MAX_LOGGED_PATH = 512


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = settings.KB_CONTENT_SECURITY_POLICY
        self.permissions_policy = settings.KB_PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                debug_page_policy(self.csp) if is_debug_page(response) else self.csp
            )
        if self.permissions_policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions_policy
        return response


# Django's technical pages (the DEBUG 404 and 500 pages, the CSRF failure page) all carry this
# tag near the top; our own pages never do.
_DEBUG_PAGE_MARKER = b'<meta name="robots" content="NONE,NOARCHIVE">'


def is_debug_page(response: HttpResponse) -> bool:
    """A Django technical error page, shown only with DEBUG on: its styles and its frame-toggling
    script are inline, so the strict policy would leave it unstyled and broken."""
    return (
        settings.DEBUG
        and response.status_code >= 400
        and not getattr(response, "streaming", False)
        and response.get("Content-Type", "").startswith("text/html")
        and _DEBUG_PAGE_MARKER in response.content[:2048]
    )


def debug_page_policy(policy: str) -> str:
    """The policy with 'unsafe-inline' added to script-src and style-src (DEBUG pages only)."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    names = {d.split()[0] for d in directives}
    relaxed = [
        f"{d} 'unsafe-inline'" if d.split()[0] in {"script-src", "style-src"} else d
        for d in directives
    ]
    relaxed += [
        f"{name} 'self' 'unsafe-inline'"
        for name in ("script-src", "style-src")
        if name not in names
    ]
    return "; ".join(relaxed)


def client_address(request: HttpRequest, num_proxies: int | None = None) -> str:
    """The client's address: REMOTE_ADDR, or `num_proxies` hops from the right of
    X-Forwarded-For when that many trusted proxies sit in front of the app. Entries a client
    prepends itself are ignored, so rotating a forged header changes nothing."""
    proxies = settings.KB_NUM_PROXIES if num_proxies is None else num_proxies
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        return remote
    return hops[-proxies][:64]


class RequestLogMiddleware:
    """One structured log record per request: method, path, status, duration, size, client,
    user and a request ID (taken from a well-formed `X-Request-ID` or generated, and echoed in
    the response so a user's report can be matched to the log line)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        status = 500
        response = None
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            if request.method == "HEAD" and not response.streaming:
                # Django renders the body for HEAD; send headers only (Content-Length is kept).
                response.content = b""
            return response
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            user = getattr(request, "user", None)
            fields = {
                "request_id": request_id,
                "method": request.method,
                "path": request.path[:_MAX_LOGGED_PATH],
                "status": status,
                "duration_ms": round(duration_ms, 2),
                "bytes": _response_size(response),
                "client": client_address(request),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            }
            level = logging.ERROR if status >= 500 else logging.INFO
            request_logger.log(
                level,
                "%s %s %s %.1fms",
                fields["method"],
                fields["path"],
                status,
                duration_ms,
                extra={"http": fields},
            )


def _response_size(response: HttpResponse | None) -> int | None:
    if response is None or getattr(response, "streaming", False):
        return None
    return len(response.content)


class JsonFormatter(logging.Formatter):
    """Log records as single-line JSON objects (for log shippers): time, level, logger, message,
    the request fields when present, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            data.update(http)
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


JsonFormatter.converter = time.gmtime
