"""POST /api/v1/match/: which stories does this error message look like?"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import search, selectors
from incidents.api import serializers as s
from incidents.api.base import KBApiMixin
from incidents.api.errors import ApiError
from incidents.api.parsers import PlainTextParser, RawBody, SafeJSONParser
from incidents.api.schema import errors


class MatchView(KBApiMixin, APIView):
    """Which stories does this error message / event / describe output look like?"""

    parser_classes = [SafeJSONParser, PlainTextParser]
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Match free text (errors, events, k8sgpt output) to likely stories",
        request={
            "application/json": s.MatchRequestSerializer,
            "text/plain": {"type": "string"},
        },
        responses={200: s.MatchResponseSerializer, **errors(415)},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.data, RawBody):
            try:
                payload = {"text": request.data.content.decode("utf-8")}
            except UnicodeDecodeError:
                raise ApiError("The body is not UTF-8 text.", code="malformed_body") from None
        else:
            payload = request.data
        serializer = s.MatchRequestSerializer(data=payload)
        serializer.is_valid(raise_exception=True)
        text = serializer.validated_data["text"].replace("\x00", " ")
        matches = search.match_text(text, serializer.validated_data["limit"])
        stories = [story for story, _terms, _score in matches]
        selectors.prefetch_rule_links(stories, "categories", "technologies")
        context = {
            "matched": {story.pk: terms for story, terms, _score in matches},
            "scores": {story.pk: score for story, _terms, score in matches},
        }
        return Response({"results": s.story_items(stories, request, **context)})
