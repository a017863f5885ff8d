"""What every API view shares: JSON only, token authentication, throttling, a bounded body, and
read-anyone / write-with-permission access."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import permissions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

from incidents.api.auth import ApiTokenAuthentication
from incidents.api.errors import ApiError, BodyTooLarge
from incidents.api.renderers import KBJSONRenderer
from incidents.api.schema import KBAutoSchema
from incidents.api.throttling import KBThrottle
from incidents.models import Story


class ReadOrModelPermission(permissions.DjangoModelPermissions):
    """Anyone may read; writing needs an authenticated user with the model permission."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)


class KBContentNegotiation(DefaultContentNegotiation):
    """`?format=` is ours (json|sarif on /check/), not DRF's renderer override."""

    class settings:
        URL_FORMAT_OVERRIDE = None


class KBApiMixin:
    """Shared policy: JSON only, token auth, throttling, a bounded body."""

    schema = KBAutoSchema()
    content_negotiation_class = KBContentNegotiation
    renderer_classes = [KBJSONRenderer]
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [ReadOrModelPermission]
    throttle_classes = [KBThrottle]
    queryset = Story.objects.none()  # for DjangoModelPermissions: the model is Story
    max_body_bytes_setting = "DATA_UPLOAD_MAX_MEMORY_SIZE"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        limit = getattr(settings, self.max_body_bytes_setting)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ApiError("Content-Length is not a number.", code="bad_request") from None
        if length > limit:
            raise BodyTooLarge(limit)
        super().initial(request, *args, **kwargs)
