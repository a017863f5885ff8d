"""/api/v1/stories/: search and list, read one, and (curators) create and update."""

from __future__ import annotations

from django.db import IntegrityError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import search, selectors, services
from incidents.api import serializers as s
from incidents.api.base import KBApiMixin, ReadOrModelPermission
from incidents.api.errors import ApiError
from incidents.api.filters import StoryQuerySerializer, parse_query, search_filters
from incidents.api.pagination import StoryPagination
from incidents.api.parsers import SafeJSONParser
from incidents.api.schema import errors
from incidents.models import Story


def _etag(story: Story) -> str:
    return f'"{story.version}"'


class StoryViewSet(KBApiMixin, viewsets.ViewSet):
    """Failure stories: search and list, read one, and (curators) create and update."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly, ReadOrModelPermission]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    pagination_class = StoryPagination
    parser_classes = [SafeJSONParser]

    def _can_see_drafts(self, request: Request) -> bool:
        return request.user.is_authenticated and request.user.has_perm("incidents.change_story")

    def _get(self, request: Request, slug: str) -> Story:
        story = selectors.story_get(slug=slug, published_only=not self._can_see_drafts(request))
        if story is None:
            raise ApiError("No story with this slug.", code="not_found", status_code=404)
        return story

    def _detail(self, request: Request, story: Story, code: int = 200) -> Response:
        related = search.more_like_this(story, 5) if story.is_published else []
        data = s.StoryDetailSerializer(story, context={"request": request, "related": related}).data
        return Response(data, status=code, headers={"ETag": _etag(story)})

    @extend_schema(
        summary="Search and list stories",
        parameters=[StoryQuerySerializer],
        responses={200: s.StoryPageSerializer, **errors(404)},
    )
    def list(self, request: Request) -> Response:
        params = parse_query(StoryQuerySerializer, request.query_params)
        filters = search_filters(params)
        found = selectors.StorySearch(
            params.get("q", ""),
            filters=filters,
            ordering=params.get("ordering") or "relevance",
            correct=not params.get("exact"),
        )
        paginator = self.pagination_class()
        hits = paginator.paginate_queryset(found, request, view=self)
        stories = [hit.story for hit in hits]
        selectors.prefetch_rule_links(stories, "categories", "technologies")
        context = {
            "highlights": {h.story.pk: h.highlights for h in hits},
            "scores": {h.story.pk: h.score for h in hits} if params.get("q") else {},
        }
        return paginator.get_paginated_response(s.story_items(stories, request, **context))

    @extend_schema(
        summary="One story: every field, rendered HTML, linked rules, related stories",
        responses={200: s.StoryDetailSerializer, **errors(404)},
    )
    def retrieve(self, request: Request, slug: str) -> Response:
        return self._detail(request, self._get(request, slug))

    @extend_schema(
        summary="Create a story (curators)",
        request=s.StoryWriteSerializer,
        responses={201: s.StoryDetailSerializer, **errors(401, 403, 415)},
    )
    def create(self, request: Request) -> Response:
        serializer = s.StoryWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            story = services.story_create(data=serializer.validated_data, user=request.user)
        except IntegrityError:
            raise ApiError(
                "A story with this slug or source URL already exists.", code="conflict"
            ) from None
        story = selectors.story_get(slug=story.slug, published_only=False)
        response = self._detail(request, story, code=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:story-detail", args=[story.slug])
        )
        return response

    def _update(self, request: Request, slug: str, *, partial: bool) -> Response:
        story = self._get(request, slug)
        expected = _if_match(request, story)
        serializer = s.StoryWriteSerializer(story, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            story = services.story_update(
                story=story,
                data=serializer.validated_data,
                expected_version=expected,
                user=request.user,
            )
        except services.StaleStoryError as exc:
            raise _stale(str(exc), exc.story) from None
        except IntegrityError:
            raise ApiError(
                "A story with this slug or source URL already exists.", code="conflict"
            ) from None
        # Answer with the story as this write left it: re-reading could return a later version
        # committed meanwhile by someone else, and its ETag would let this client overwrite
        # that edit unseen on its next If-Match.
        return self._detail(request, story)

    update_schema = extend_schema(
        request=s.StoryWriteSerializer,
        parameters=[
            OpenApiParameter(
                "If-Match",
                location=OpenApiParameter.HEADER,
                required=True,
                description="The ETag from the story's last GET (its version, quoted).",
            )
        ],
        responses={200: s.StoryDetailSerializer, **errors(401, 403, 404, 412, 415, 428)},
    )

    @update_schema
    def update(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=False)

    @update_schema
    def partial_update(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=True)


def _stale(message: str, story: Story) -> ApiError:
    return ApiError(
        message,
        code="precondition_failed",
        status_code=status.HTTP_412_PRECONDITION_FAILED,
        details={"current_version": story.version},
        headers={"ETag": _etag(story)},
    )


def _if_match(request: Request, story: Story) -> int | None:
    """The version the client edited, from If-Match; `*` means "whatever is current"."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise ApiError(
            "Updates need an If-Match header with the story's ETag (GET it first).",
            code="precondition_required",
            status_code=status.HTTP_428_PRECONDITION_REQUIRED,
        )
    if header == "*":
        return None
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag.isdigit() and len(tag) < 10 and int(tag) == story.version:
            return story.version
    raise _stale(
        f"The story is at version {story.version}; your If-Match does not match. "
        "Reload it and apply your changes again.",
        story,
    )
