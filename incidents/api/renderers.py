"""The API's JSON renderer: DRF's output, encoded by orjson.

DRF's JSONRenderer runs the standard library's encoder, whose pure-Python pass over a page of
search results (ten stories with their summaries, tags, highlights and the facets) took about a
tenth of an API search's time in bench/api_bench.py; orjson encodes the same data in a small
fraction of that. The bytes are the same as DRF's compact, UTF-8 output:

- values orjson does not know or writes differently (lazy translations, Decimals, dates and
  times, querysets...) go through DRF's own encoder's `default`;
- the line and paragraph separators are escaped as DRF escapes them;
- a request for indented JSON (`Accept: application/json; indent=4`) or anything orjson refuses
  (an integer beyond 64 bits) is rendered by DRF itself.

NaN and the infinities become null, where DRF's strict encoder would fail the request.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer

# U+2028 and U+2029 are valid in JSON but end a line in JavaScript: DRF escapes them.
_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


# Dates and times go through DRF's encoder too: it writes UTC as "Z" and cuts microseconds to
# milliseconds (ECMA-262), where orjson would not.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class KBJSONRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if (
            not self.compact
            or self.ensure_ascii
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is one: let DRF render it, or say why not
            return super().render(data, accepted_media_type, renderer_context)
        for raw, escaped in _SEPARATORS:
            if raw in out:
                out = out.replace(raw, escaped)
        return out
