"""GET /api/v1/rules/ and /api/v1/rules/{id}/: the rule library with the stories behind it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import selectors
from incidents.api import serializers as s
from incidents.api.base import KBApiMixin
from incidents.api.errors import ApiError
from incidents.api.filters import RuleQuerySerializer, parse_query
from incidents.api.schema import errors


class RuleViewSet(KBApiMixin, viewsets.ViewSet):
    """The rule library: manifest checks and runtime alerts, each linked to stories."""

    permission_classes = [permissions.AllowAny]
    lookup_field = "rule_id"
    lookup_value_regex = r"[-a-zA-Z0-9]+"

    @extend_schema(
        summary="Every rule (manifest checks and runtime alerts)",
        parameters=[RuleQuerySerializer],
        responses={200: s.RuleListSerializer, **errors()},
    )
    def list(self, request: Request) -> Response:
        params = parse_query(RuleQuerySerializer, request.query_params)
        rules = selectors.rule_list(
            rule_type=params.get("type"), severity=params.get("severity"), kind=params.get("kind")
        )
        views = selectors.rule_views(rules)
        data = s.RuleSerializer(views, many=True, context={"request": request}).data
        return Response({"count": len(data), "results": data})

    @extend_schema(
        summary="One rule: documentation, linked stories, failing and passing examples",
        responses={200: s.RuleDetailSerializer, **errors(404)},
    )
    def retrieve(self, request: Request, rule_id: str) -> Response:
        rule = selectors.rule_lookup(rule_id[:60])
        if rule is None:
            raise ApiError(f"No rule {rule_id[:60]!r}.", code="not_found", status_code=404)
        [view] = selectors.rule_views([rule], examples=True)
        return Response(s.RuleDetailSerializer(view, context={"request": request}).data)
