"""The API's JSON renderer writes the bytes DRF's JSONRenderer writes, faster."""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from incidents.api.renderers import KBJSONRenderer

SAMPLE = {
    "title": 'Zürich 超时 <mark>dns</mark> "quoted" \\ tab\t',
    "separators": "line\u2028paragraph\u2029end",
    "lazy": gettext_lazy("Category"),
    "when": datetime.datetime(2026, 12, 6, 3, 4, 5, 678000, tzinfo=datetime.UTC),
    "day": datetime.date(2019, 1, 2),
    "amount": decimal.Decimal("1.50"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "numbers": [0, -1, 2**40, 1.5, 0.1, True, False, None],
    "tags": ("a", "b"),
    3: "an integer key",
    "nested": {"facets": {"year": [{"value": "2019", "label": "2019", "count": 3}]}},
}


def test_it_writes_what_drf_writes():
    assert KBJSONRenderer().render(SAMPLE) == JSONRenderer().render(SAMPLE)


def test_indented_json_and_values_orjson_refuses_are_rendered_by_drf():
    data = {"big": 2**70, "set": {1}}
    assert KBJSONRenderer().render(data) == JSONRenderer().render(data)
    indented = KBJSONRenderer().render(SAMPLE, "application/json; indent=2")
    assert indented == JSONRenderer().render(SAMPLE, "application/json; indent=2")
    assert b'\n  "title"' in indented


def test_the_api_answers_with_it(client, stories):
    response = client.get("/api/v1/stories/", {"q": "coredns"})
    assert isinstance(response.accepted_renderer, KBJSONRenderer)
    assert response.content == JSONRenderer().render(response.data)


def test_a_float_json_cannot_hold_is_null_not_a_failed_request():
    assert KBJSONRenderer().render({"score": float("nan")}) == b'{"score":null}'
