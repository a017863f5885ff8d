"""`request.POST` for urlencoded bodies, decoded with memory bounded by the body's size.

Django builds `request.POST` from an `application/x-www-form-urlencoded` body with urllib's
`parse_qsl`, which splits each value at every `%`: one Python object per escape. A 2.8 MB value
made of 700,000 escapes (a pasted manifest: every `:` is `%3A`) held about 160 MB for a second;
a body at the 6 MB limit, several hundred MB. Browsers send this encoding for the suggestion form
and the admin, and any client may use it for the check page or the chat commands.

`parse_urlencoded` gives the same `QueryDict` (same field order, `+` as space, invalid escapes
kept, invalid UTF-8 escapes replaced, a body that is not UTF-8 read as Latin-1, the same
DATA_UPLOAD_MAX_NUMBER_FIELDS limit), unescaping each value in 16 KiB slices, so the extra
memory is that of one slice. `FormBodyMiddleware` installs it before anything reads
`request.POST` (the CSRF middleware does).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
_SLICE = 16 * 1024


def _unquote(data: bytes, encoding: str) -> str:
    data = data.replace(b"+", b" ")
    if b"%" not in data:
        return data.decode(encoding, "replace")
    out = bytearray()
    pos, size = 0, len(data)
    while pos < size:
        end = min(pos + _SLICE, size)
        if end < size:
            # An escape is three bytes: one starting in the last two goes to the next slice.
            cut = data.rfind(b"%", end - 2, end)
            if cut > pos:
                end = cut
        out += unquote_to_bytes(data[pos:end])
        pos = end
    return out.decode(encoding, "replace")


def parse_urlencoded(body: bytes, encoding: str) -> QueryDict:
    """The QueryDict Django would build from `body`, without its per-escape objects."""
    max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if max_fields is not None and body.count(b"&") + 1 > max_fields:
        raise TooManyFieldsSent(
            "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
        )
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = settings.DEFAULT_CHARSET
    try:
        body.isascii() or body.decode(encoding)
    except UnicodeDecodeError:
        # Django reads such a body as Latin-1; re-encoding keeps each raw byte as that
        # character while escapes still decode with `encoding`.
        body = body.decode("iso-8859-1").encode(encoding)
    result = QueryDict(mutable=True, encoding=encoding)
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        result.appendlist(_unquote(name, encoding), _unquote(value, encoding))
    result._mutable = False  # like Django's request.POST
    return result


class FormBodyMiddleware:
    """Parse a urlencoded POST body with `parse_urlencoded` before any view or middleware
    reads `request.POST`. Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are left to Django, which
    refuses them when (and if) they are read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == FORM_MEDIA_TYPE:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = -1
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if declared >= 0 and (limit is None or declared <= limit):
                encoding = request.encoding or settings.DEFAULT_CHARSET
                request.POST = parse_urlencoded(request.body, encoding)
                request._files = MultiValueDict()  # what Django sets for this content type
        return self.get_response(request)
