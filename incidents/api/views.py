"""The REST API, version 1. Thin: validate, call a selector, the search interface or a service.

Reads are public. Writes need an API token (`Authorization: Bearer kb_...`) of a user with the
model permission (add/change story) and, for updates, `If-Match` with the story's ETag.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db.models import prefetch_related_objects
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from incidents import search, selectors, services
from incidents.api import serializers as s
from incidents.api.auth import ApiTokenAuthentication
from incidents.api.errors import ApiError, BodyTooLarge
from incidents.api.filters import (
    CheckQuerySerializer,
    RuleQuerySerializer,
    StoryQuerySerializer,
    parse_query,
)
from incidents.api.parsers import MANIFEST_PARSERS, PlainTextParser, RawBody, SafeJSONParser
from incidents.api.throttling import KBThrottle
from incidents.models import Story

# Input errors and warnings listed in a check's answer (all are counted in its summary): a 1 MiB
# file of duplicate keys has 200,000, which made a 21-30 MB response.
MAX_LISTED_ERRORS = 100
STREAM_FINDINGS = 1000  # above this, a JSON check report is streamed
SEARCH_FILTERS = ("category", "technology", "platform", "year", "source_kind", "provenance")
ERRORS = {
    code: OpenApiResponse(s.ErrorSerializer, description=text)
    for code, text in {
        400: "Bad request: invalid parameter or body (see error.code).",
        401: "No or invalid token.",
        403: "The token's user lacks the permission.",
        404: "Not found.",
        406: "Not acceptable.",
        412: "If-Match does not match the current ETag.",
        413: "Request body too large.",
        415: "Unsupported Content-Type.",
        428: "If-Match is required.",
        429: "Throttled; see Retry-After.",
    }.items()
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in (400, 406, 413, 429, *codes)}


class ReadOrModelPermission(permissions.DjangoModelPermissions):
    """Anyone may read; writing needs an authenticated user with the model permission."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)


class KBAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        """Tag operations by resource: /api/v1/stories/... -> "stories"."""
        parts = [p for p in self.path.removeprefix("/api/v1/").split("/") if p]
        return [parts[0] if parts else "api"]

    def get_operation_id(self) -> str:
        """stories_list, stories_retrieve, check_post...: stable and readable."""
        action = getattr(self.view, "action", None) or self.method.lower()
        return f"{self.get_tags()[0]}_{action}"

    def _is_list_view(self, serializer=None) -> bool:
        """Our list responses are page objects declared explicitly, never bare arrays."""
        return False


class KBContentNegotiation(DefaultContentNegotiation):
    """`?format=` is ours (json|sarif on /check/), not DRF's renderer override."""

    class settings:
        URL_FORMAT_OVERRIDE = None


class KBApiMixin:
    """Shared policy: JSON only, token auth, throttling, a bounded body."""

    schema = KBAutoSchema()
    content_negotiation_class = KBContentNegotiation
    renderer_classes = [JSONRenderer]
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


def _absolute(request: Request, path: str) -> str:
    return request.build_absolute_uri(path)


class ApiRootView(KBApiMixin, APIView):
    """The entry points of the API."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ApiRoot",
                {name: serializers.URLField() for name in ("stories", "rules")}
                | {name: serializers.URLField() for name in ("check", "match", "schema", "docs")},
            )
        },
    )
    def get(self, request: Request) -> Response:
        names = {
            "stories": "api:story-list",
            "rules": "api:rule-list",
            "check": "api:check",
            "match": "api:match",
            "schema": "api-schema",
            "docs": "api-docs",
        }
        return Response({key: _absolute(request, reverse(name)) for key, name in names.items()})


def _prefetch(stories: list[Story]) -> None:
    prefetch_related_objects(stories, "categories", "technologies", selectors.rule_links_prefetch())


ORDER_KEYS = {
    "year": lambda h: (h.story.year, h.story.title.lower(), h.story.pk),
    "-year": lambda h: (-h.story.year, h.story.title.lower(), h.story.pk),
    "title": lambda h: (h.story.title.lower(), h.story.pk),
    "-published_at": lambda h: (
        -(h.story.published_at.timestamp() if h.story.published_at else 0),
        h.story.pk,
    ),
}
MAX_ORDERED_HITS = 1000


def _ordered_hits(
    q: str, filters: dict, ordering: str, page: int, per_page: int, *, correct: bool = True
):
    """Every hit (up to MAX_ORDERED_HITS), sorted by a field with a unique tie-breaker, so
    pages are stable; the search interface itself orders only by relevance."""
    hits: list = []
    batch = 1
    while True:
        results = search.search(
            q, filters=filters, page=batch, per_page=100, highlight=bool(q), correct=correct
        )
        hits.extend(results.hits)
        if not results.hits or len(hits) >= min(results.total, MAX_ORDERED_HITS):
            break
        batch += 1
    if ordering == "-title":
        hits.sort(key=ORDER_KEYS["title"], reverse=True)
    else:
        hits.sort(key=ORDER_KEYS[ordering])
    return results, hits[(page - 1) * per_page : page * per_page]


def _etag(story: Story) -> str:
    return f'"{story.version}"'


class StoryViewSet(KBApiMixin, viewsets.ViewSet):
    """Failure stories: search and list, read one, and (curators) create and update."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly, ReadOrModelPermission]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
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
        filters = {k: [str(v) for v in params[k]] for k in SEARCH_FILTERS if params.get(k)}
        if params.get("has_rules") is not None:
            filters["has_rules"] = ["true" if params["has_rules"] else "false"]
        page, per_page = params["page"], params["per_page"]
        ordering = params.get("ordering") or "relevance"
        if ordering == "relevance":
            results = search.search(
                params.get("q", ""),
                filters=filters,
                page=page,
                per_page=per_page,
                highlight=True,
                correct=not params.get("exact"),
            )
            hits = results.hits
        else:
            results, hits = _ordered_hits(
                params.get("q", ""),
                filters,
                ordering,
                page,
                per_page,
                correct=not params.get("exact"),
            )
        num_pages = max(1, -(-results.total // per_page))
        if page > num_pages:
            raise ApiError(
                f"Page {page} is past the last page ({num_pages}).",
                code="invalid_pagination",
                status_code=404,
                details={"num_pages": num_pages},
            )
        stories = [hit.story for hit in hits]
        _prefetch(stories)
        context = {
            "highlights": {h.story.pk: h.highlights for h in hits},
            "scores": {h.story.pk: h.score for h in hits} if params.get("q") else {},
        }
        url = request.build_absolute_uri()
        return Response(
            {
                "count": results.total,
                "page": page,
                "per_page": per_page,
                "num_pages": num_pages,
                "next": replace_query_param(url, "page", page + 1) if page < num_pages else None,
                "previous": replace_query_param(url, "page", page - 1) if page > 1 else None,
                "suggestion": results.suggestion or None,
                "corrected": results.corrected,
                "facets": {
                    key: [
                        {"value": str(v), "label": str(label), "count": n}
                        for v, label, n in results.facets.get(key, [])
                    ]
                    for key in SEARCH_FILTERS
                },
                "results": s.story_items(stories, request, **context),
            }
        )

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
        response["Location"] = _absolute(request, reverse("api:story-detail", args=[story.slug]))
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


def _rule_payload(rules: list, request: Request, *, detail: bool) -> list[dict[str, Any]]:
    linked = selectors.stories_for_rules([r.id for r in rules])
    out = []
    for rule in rules:
        data = rule_docs(rule)
        item = {
            key: data[key] for key in ("id", "slug", "title", "severity", "type", "kinds", "checks")
        }
        item["url"] = _absolute(request, reverse("incidents:rule", args=[rule.id]))
        item["api_url"] = _absolute(request, reverse("api:rule-detail", args=[rule.id]))
        item["stories"] = [
            {
                "slug": x.story.slug,
                "title": x.story.title,
                "url": _absolute(request, x.story.get_absolute_url()),
                "api_url": _absolute(request, reverse("api:story-detail", args=[x.story.slug])),
                "note": x.note,
            }
            for x in linked[rule.id]
        ]
        if detail:
            item.update({k: data[k] for k in ("why", "fix", "fix_example", "references")})
            examples = examples_for(rule.id)
            for key, fails in (("failing_examples", True), ("passing_examples", False)):
                item[key] = [
                    {"name": e.name, "manifest": e.text} for e in examples if e.fails is fails
                ]
            if data.get("expr"):
                item["expr"] = data["expr"]
        out.append(item)
    return out


def rule_docs(rule) -> dict[str, Any]:
    from incidents.rules.base import rule_as_dict

    return rule_as_dict(rule)


def examples_for(rule_id: str):
    from incidents.rules.examples import examples_for

    return examples_for(rule_id)


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
        from incidents.rules.base import Severity
        from incidents.rules.registry import REGISTRY

        params = parse_query(RuleQuerySerializer, request.query_params)
        rules = [
            r
            for r in REGISTRY.all()
            if (not params.get("type") or r.rule_type == params["type"])
            and (not params.get("severity") or r.severity == Severity.parse(params["severity"]))
            and (not params.get("kind") or params["kind"] in r.kinds)
        ]
        results = _rule_payload(rules, request, detail=False)
        return Response({"count": len(results), "results": results})

    @extend_schema(
        summary="One rule: documentation, linked stories, failing and passing examples",
        responses={200: s.RuleDetailSerializer, **errors(404)},
    )
    def retrieve(self, request: Request, rule_id: str) -> Response:
        from incidents.rules.registry import REGISTRY, UnknownRule

        try:
            rule = REGISTRY.lookup(rule_id[:60])
        except UnknownRule:
            raise ApiError(
                f"No rule {rule_id[:60]!r}.", code="not_found", status_code=404
            ) from None
        return Response(_rule_payload([rule], request, detail=True)[0])


class CheckView(KBApiMixin, APIView):
    """Check Kubernetes manifests against the rules, as `kbcheck` does."""

    parser_classes = MANIFEST_PARSERS
    permission_classes = [permissions.AllowAny]
    max_body_bytes_setting = "DATA_UPLOAD_MAX_MEMORY_SIZE"

    @extend_schema(
        summary="Check manifests (YAML or JSON; raw body or multipart field `manifests`)",
        parameters=[CheckQuerySerializer],
        request={
            "application/yaml": {"type": "string"},
            "application/x-yaml": {"type": "string"},
            "text/yaml": {"type": "string"},
            "application/json": {"type": "object", "additionalProperties": True},
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "manifests": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                    }
                },
                "required": ["manifests"],
            },
        },
        responses={
            200: OpenApiResponse(
                {"type": "object", "additionalProperties": True},
                description="The report, as `kbcheck --format json` (or SARIF 2.1.0) prints it. "
                "Header KB-Check-Exit-Code: 0 clean, 1 findings at or above fail_on, 2 input "
                "errors in some documents. Input of which nothing could be checked is a 400 "
                "(code `invalid_manifests`, the errors in `details`).",
            ),
            **errors(415),
        },
        examples=[
            OpenApiExample(
                "A Deployment",
                value="apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
                request_only=True,
                media_type="application/yaml",
            )
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        from incidents.rules.engine import UsageError, check_inputs
        from incidents.rules.formats import StoryCache, render
        from incidents.rules.formats.json import iter_json
        from incidents.rules.parsing import Limits

        params = parse_query(CheckQuerySerializer, request.query_params)
        inputs = _manifest_inputs(request)
        limits = Limits(max_bytes=settings.KB_MAX_MANIFEST_BYTES)
        try:
            report = check_inputs(inputs, skip=params.get("skip") or (), limits=limits)
        except UsageError as exc:
            raise ApiError(
                str(exc), code="invalid_parameter", details={"skip": [str(exc)]}
            ) from None
        if report.errors and not report.objects:
            # Nothing could be checked (an alias bomb, nesting too deep, every document
            # malformed): that is bad input, answered as kbcheck's exit code 2 is, with a 400.
            first = report.errors[0]
            where = ", ".join(
                part
                for part in (
                    f"document {first.document + 1}" if first.document is not None else "",
                    f"line {first.line}" if first.line else "",
                )
                if part
            )
            details: dict[str, Any] = {
                "errors": [error.as_dict() for error in report.errors[:MAX_LISTED_ERRORS]]
            }
            if len(report.errors) > MAX_LISTED_ERRORS:
                details["errors_not_listed"] = len(report.errors) - MAX_LISTED_ERRORS
            raise ApiError(
                f"The manifests could not be checked: {first.message}"
                + (f" ({where})" if where else ""),
                code="invalid_manifests",
                details=details,
            )
        resolve = selectors.story_resolver(
            absolute=request.build_absolute_uri,
            slugs={slug for f in report.findings for slug in f.rule.stories},
        )

        def rule_url(rule_id: str) -> str:
            return _absolute(request, reverse("incidents:rule", args=[rule_id]))

        if params["format"] == "json" and (
            len(report.findings) > STREAM_FINDINGS
            or len(report.errors) > MAX_LISTED_ERRORS
            or len(report.warnings) > MAX_LISTED_ERRORS
        ):
            # Streamed: a 5 MB input can have 100,000 findings (120 MB of JSON, 500 MB as one
            # structure and string); this keeps one finding at a time.
            chunks = iter_json(
                report,
                stories=StoryCache(resolve),
                rule_url=rule_url,
                max_listed=MAX_LISTED_ERRORS,
            )
            response = StreamingHttpResponse(
                (c.encode() for c in chunks), content_type="application/json"
            )
        else:
            body = render(report, params["format"], story_resolver=resolve, rule_url=rule_url)
            response = HttpResponse(body, content_type="application/json")
        response["KB-Check-Exit-Code"] = str(report.exit_code(params["fail_on"]))
        return response


def _manifest_inputs(request: Request) -> list[tuple[str | None, bytes | str]]:
    data = request.data
    if isinstance(data, RawBody):
        inputs: list[tuple[str | None, bytes | str]] = [(None, data.content)]
    elif hasattr(request, "FILES") and (request.FILES or hasattr(data, "getlist")):
        inputs = [(f.name, f.read()) for f in request.FILES.getlist("manifests")]
        inputs += [(None, text) for text in data.getlist("manifests") if isinstance(text, str)]
        total = sum(len(content) for _, content in inputs)
        if total > settings.KB_MAX_MANIFEST_BYTES:
            raise BodyTooLarge(settings.KB_MAX_MANIFEST_BYTES)
    else:
        inputs = []
    if not inputs or not any(content.strip() for _, content in inputs):
        raise ApiError(
            "No manifests: send YAML or JSON as the body (Content-Type application/yaml or "
            "application/json) or as the multipart file field `manifests`.",
            code="no_manifests",
        )
    return inputs


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
        _prefetch(stories)
        context = {
            "matched": {story.pk: terms for story, terms, _score in matches},
            "scores": {story.pk: score for story, _terms, score in matches},
        }
        return Response({"results": s.story_items(stories, request, **context)})
