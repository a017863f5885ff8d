"""Request body parsers for the manifest check and the free-text match.

Raw bodies are read with a hard bound, so a client that streams more than the limit (with or
without Content-Length) gets a 413 after `limit + 1` bytes instead of filling memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser

from incidents.api.errors import BodyTooLarge


@dataclass(frozen=True)
class RawBody:
    """The unparsed body of a raw upload; the rule engine does its own safe parsing."""

    content: bytes
    media_type: str


def read_bounded(stream, limit: int) -> bytes:
    if stream is None:
        return b""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise BodyTooLarge(limit)
    return data


class _RawParser(BaseParser):
    limit_setting = "KB_MAX_MANIFEST_BYTES"

    def parse(self, stream, media_type=None, parser_context=None) -> RawBody:
        limit = getattr(settings, self.limit_setting)
        return RawBody(read_bounded(stream, limit), self.media_type)


class YAMLParser(_RawParser):
    media_type = "application/yaml"


class XYAMLParser(_RawParser):
    media_type = "application/x-yaml"


class TextYAMLParser(_RawParser):
    media_type = "text/yaml"


class RawJSONParser(_RawParser):
    """JSON manifests are handed to the rule engine as text, like YAML (JSON is YAML)."""

    media_type = "application/json"


class PlainTextParser(_RawParser):
    media_type = "text/plain"
    limit_setting = "DATA_UPLOAD_MAX_MEMORY_SIZE"


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, but a document nested deeper than Python's recursion limit (e.g.
    1,000 `[`) is a 400 like any other malformed JSON, not a RecursionError and a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


MANIFEST_PARSERS = [
    YAMLParser,
    XYAMLParser,
    TextYAMLParser,
    RawJSONParser,
    MultiPartParser,
]
