"""GET /api/v1/: the entry points."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.base import KBApiMixin

ENTRY_POINTS = {
    "stories": "api:story-list",
    "rules": "api:rule-list",
    "check": "api:check",
    "match": "api:match",
    "schema": "api-schema",
    "docs": "api-docs",
}


class ApiRootView(KBApiMixin, APIView):
    """The entry points of the API."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ApiRoot", {name: serializers.URLField() for name in ENTRY_POINTS}
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            {key: request.build_absolute_uri(reverse(name)) for key, name in ENTRY_POINTS.items()}
        )
