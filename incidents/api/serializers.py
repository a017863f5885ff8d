"""API shapes. Output serializers describe what readers get; input serializers validate writes.

Serializers only translate: writes go through incidents.services, reads through selectors and
the search interface (see incidents/api/views/).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents import selectors
from incidents.markdown import render_markdown
from incidents.models import Platform, Provenance, SourceKind, Status, Story
from incidents.search import fields as search_fields
from incidents.search import hitcache

MAX_TEXT = 50_000
_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")


class TermSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class FactSerializer(serializers.Serializer):
    claim = serializers.CharField()
    quote = serializers.CharField(required=False, help_text="Short supporting quote.")
    where = serializers.CharField(required=False, help_text="Where in the source.")


class StoryLinksMixin(serializers.Serializer):
    url = serializers.SerializerMethodField(help_text="The story's web page.")
    api_url = serializers.SerializerMethodField(help_text="This story in the API.")

    def get_url(self, story: Story) -> str:
        return _absolute(self.context.get("request"), story.get_absolute_url())

    def get_api_url(self, story: Story) -> str:
        return _absolute(
            self.context.get("request"), reverse("api:story-detail", args=[story.slug])
        )


class StoryIdentitySerializer(StoryLinksMixin, serializers.Serializer):
    """The fields every story shape starts with: its addresses, slug, title and organisation."""

    slug = serializers.SlugField()
    title = serializers.CharField()
    organisation = serializers.CharField()


class StoryListItemSerializer(StoryIdentitySerializer):
    """One story in a list or search result."""

    year = serializers.IntegerField()
    platform = serializers.ChoiceField(choices=Platform.choices)
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    source_url = serializers.URLField()
    provenance = serializers.ChoiceField(
        choices=Provenance.choices, help_text="How much of the source the record rests on."
    )
    summary = serializers.CharField(help_text="Markdown.")
    categories = TermSerializer(many=True)
    technologies = TermSerializer(many=True)
    rules = serializers.SerializerMethodField(help_text="IDs of the rules linked to the story.")
    highlights = serializers.SerializerMethodField(
        help_text="Field name -> sanitised HTML excerpt with the matched terms in <mark>."
    )
    score = serializers.SerializerMethodField(help_text="Relevance; null when not searching.")

    def get_rules(self, story: Story) -> list[str]:
        return [link.rule.rule_id for link in selectors.rules_for_story(story)]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_highlights(self, story: Story) -> dict[str, str]:
        return self.context.get("highlights", {}).get(story.pk, {})

    @extend_schema_field({"type": "number", "nullable": True})
    def get_score(self, story: Story) -> float | None:
        return self.context.get("scores", {}).get(story.pk)


def story_items(
    stories: list[Story],
    request,
    *,
    highlights: dict[int, dict[str, str]] | None = None,
    scores: dict[int, float] | None = None,
    matched: dict[int, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """StoryListItemSerializer's output, built directly: the search endpoint's hot path.

    DRF serializers cost several milliseconds per page of results (field construction and deep
    copies); this builds the same dictionaries in a fraction of that. The serializer remains the
    documentation of the shape (the OpenAPI schema and the schema test check they agree).
    """
    base = request.build_absolute_uri("/")[:-1] if request is not None else ""
    web_story = base + reverse("incidents:story", args=["-"])[:-2]
    api_story = base + reverse("api:story-detail", args=["-"])[:-2]
    highlights, scores = highlights or {}, scores or {}
    out = []
    for story in stories:
        # The part that depends only on the story, its relations and the site's address is
        # built once per data version for a story from the hit cache (hitcache.memo).
        memo = hitcache.memo(story)
        fixed = memo.get(("api-item", base)) if memo is not None else None
        if fixed is None:
            fixed = {
                "url": f"{web_story}{story.slug}/",
                "api_url": f"{api_story}{story.slug}/",
                "slug": story.slug,
                "title": story.title,
                "organisation": story.organisation,
                "year": story.year,
                "platform": story.platform,
                "source_kind": story.source_kind,
                "source_url": story.source_url,
                "provenance": story.provenance,
                "summary": story.summary,
                "categories": [{"slug": c.slug, "name": c.name} for c in story.categories.all()],
                "technologies": [
                    {"slug": t.slug, "name": t.name} for t in story.technologies.all()
                ],
                "rules": [link.rule.rule_id for link in selectors.rules_for_story(story)],
            }
            if memo is not None:
                memo[("api-item", base)] = fixed
        item = dict(fixed)  # its lists are shared with the memo: read-only, as rendering is
        item["highlights"] = highlights.get(story.pk, {})
        item["score"] = scores.get(story.pk)
        if matched is not None:
            item["matched_terms"] = list(matched.get(story.pk, []))
        out.append(item)
    return out


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


# One list of values per declared facet (incidents.search.fields). A comment, not a docstring:
# a docstring would become the schema's description.
class FacetsSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {f.name: FacetValueSerializer(many=True) for f in search_fields.facets()}


def facets_payload(facets: dict[str, list[tuple[str, str, int]]]) -> dict[str, list[dict]]:
    """SearchResults.facets as the API returns them: every facet, each value with its label."""
    return {
        name: [
            {"value": str(v), "label": str(label), "count": n}
            for v, label, n in facets.get(name, [])
        ]
        for name in (f.name for f in search_fields.facets())  # FacetsSerializer's fields
    }


class StoryPageSerializer(serializers.Serializer):
    """A page of stories with facets over the whole result set and a did-you-mean."""

    count = serializers.IntegerField()
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    suggestion = serializers.CharField(
        allow_null=True,
        help_text="A corrected query when the words look misspelt. When `corrected` is true, "
        "the results are this query's.",
    )
    corrected = serializers.BooleanField(
        help_text="True when the query as typed found (almost) nothing and the results are "
        "those of `suggestion`; repeat the request with `exact=true` for the query as typed."
    )
    facets = FacetsSerializer()
    results = StoryListItemSerializer(many=True)


class LinkedRuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField()
    note = serializers.CharField(help_text="How the rule relates to this story.")
    url = serializers.CharField()
    api_url = serializers.CharField()


class RelatedStorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    url = serializers.CharField()
    api_url = serializers.CharField()
    shared_terms = serializers.ListField(child=serializers.CharField())


class ExposureConditionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["component", "platform", "rule", "env"])
    description = serializers.CharField()
    why = serializers.CharField()
    sources = serializers.ListField(child=serializers.URLField())


class ExposureSerializer(serializers.Serializer):
    match = serializers.ChoiceField(
        choices=["all", "any"], help_text="all: every condition must hold; any: one suffices."
    )
    summary = serializers.CharField()
    conditions = ExposureConditionSerializer(many=True)


class StoryDetailSerializer(StoryIdentitySerializer):
    """Every structured field; each Markdown field also comes rendered as sanitised HTML."""

    source_url = serializers.URLField()
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    year = serializers.IntegerField(help_text="Publication year.")
    listing_year = serializers.IntegerField(
        allow_null=True, help_text="The k8s.af listing's year, only when it differs."
    )
    published_date = serializers.DateField(allow_null=True)
    incident_date = serializers.DateField(allow_null=True)
    platform = serializers.ChoiceField(choices=Platform.choices)
    status = serializers.ChoiceField(choices=Status.choices)
    provenance = serializers.ChoiceField(choices=Provenance.choices)
    read_parts = serializers.CharField(help_text="For a partial record: what was read.")
    read_from = serializers.CharField(help_text="The copy read, when not source_url.")
    read_on = serializers.DateField(allow_null=True)
    facts = FactSerializer(many=True, help_text="Anchors for the record's specifics.")
    summary = serializers.CharField()
    symptom = serializers.CharField()
    contributing_factors = serializers.CharField()
    fix = serializers.CharField()
    detection = serializers.CharField()
    impact = serializers.CharField()
    summary_zh = serializers.CharField(
        help_text="Simplified Chinese translation of the summary (Markdown); empty when none."
    )
    html = serializers.SerializerMethodField(help_text="The Markdown fields rendered (sanitised).")
    categories = TermSerializer(many=True)
    technologies = TermSerializer(many=True)
    rules = serializers.SerializerMethodField()
    related = serializers.SerializerMethodField()
    exposure = serializers.SerializerMethodField(
        help_text="What a cluster must have for this failure to be possible there (null when no "
        "conditions are known); POST /api/v1/exposure/ checks a cluster against them."
    )
    version = serializers.IntegerField(help_text="Also the ETag; send it back in If-Match.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {name: {"type": "string"} for name in Story.MARKDOWN_FIELDS},
            "required": list(Story.MARKDOWN_FIELDS),
        }
    )
    def get_html(self, story: Story) -> dict[str, str]:
        return {name: render_markdown(getattr(story, name)) for name in Story.MARKDOWN_FIELDS}

    @extend_schema_field(LinkedRuleSerializer(many=True))
    def get_rules(self, story: Story) -> list[dict[str, Any]]:
        request = self.context.get("request")
        return [
            {
                "id": link.rule.rule_id,
                "title": link.rule.title,
                "severity": link.rule.severity,
                "note": link.note,
                "url": _absolute(request, reverse("incidents:rule", args=[link.rule.rule_id])),
                "api_url": _absolute(request, reverse("api:rule-detail", args=[link.rule.rule_id])),
            }
            for link in selectors.rules_for_story(story)
        ]

    @extend_schema_field(ExposureSerializer(allow_null=True))
    def get_exposure(self, story: Story) -> dict[str, Any] | None:
        from incidents.exposure.conditions import STORY_SOURCE, load_exposures

        exposure = load_exposures().get(story.slug)
        if exposure is None:
            return None
        return {
            "match": exposure.match,
            "summary": exposure.summary,
            "conditions": [
                {
                    "kind": c.kind,
                    "description": c.describe(),
                    "why": c.why,
                    "sources": [story.source_url if s == STORY_SOURCE else s for s in c.sources],
                }
                for c in exposure.conditions
            ],
        }

    @extend_schema_field(RelatedStorySerializer(many=True))
    def get_related(self, story: Story) -> list[dict[str, Any]]:
        request = self.context.get("request")
        return [
            {
                "slug": other.slug,
                "title": other.title,
                "url": _absolute(request, other.get_absolute_url()),
                "api_url": _absolute(request, reverse("api:story-detail", args=[other.slug])),
                "shared_terms": list(terms),
            }
            for other, terms in self.context.get("related", [])
        ]


class VocabularySlugField(serializers.SlugRelatedField):
    """A vocabulary entry by slug; a value that cannot be a slug (a NUL byte, which PostgreSQL
    refuses in a query, or 10,000 characters) is "does not exist" before any lookup."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 100 or not _SLUG_RE.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:100])
        return super().to_internal_value(data)


class StoryWriteSerializer(serializers.ModelSerializer):
    """What curators send to create or update a story. Vocabulary is referenced by slug."""

    categories = VocabularySlugField(
        slug_field="slug", queryset=selectors.category_list(), many=True, required=False
    )
    technologies = VocabularySlugField(
        slug_field="slug", queryset=selectors.technology_list(), many=True, required=False
    )

    class Meta:
        model = Story
        fields = [
            "slug",
            "title",
            "organisation",
            "source_url",
            "source_kind",
            "year",
            "listing_year",
            "published_date",
            "incident_date",
            "platform",
            "status",
            "provenance",
            "read_parts",
            "read_from",
            "read_on",
            "facts",
            "summary",
            "symptom",
            "contributing_factors",
            "fix",
            "detection",
            "impact",
            "summary_zh",
            "listing_involved",
            "curation_note",
            "categories",
            "technologies",
        ]
        extra_kwargs = {
            "year": {"min_value": 2014, "max_value": 2100},
            "listing_year": {"min_value": 2014, "max_value": 2100},
            **{
                name: {"max_length": MAX_TEXT}
                for name in (
                    *Story.MARKDOWN_FIELDS,
                    "summary_zh",
                    "listing_involved",
                    "curation_note",
                )
            },
        }


class AbsoluteUrlField(serializers.CharField):
    """Output only: the absolute URL of `path(obj)` (a string in the schema)."""

    def __init__(self, path: Callable[[Any], str], **kwargs: Any) -> None:
        self._path = path
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Any) -> str:
        return _absolute(self.context.get("request"), self._path(value))


# Reads an incidents.selectors.LinkedStory (no docstring: it would become schema text).
class RuleStorySerializer(serializers.Serializer):
    slug = serializers.SlugField(source="story.slug")
    title = serializers.CharField(source="story.title")
    url = AbsoluteUrlField(lambda linked: linked.story.get_absolute_url())
    api_url = AbsoluteUrlField(lambda linked: reverse("api:story-detail", args=[linked.story.slug]))
    note = serializers.CharField(allow_null=True)


class RuleExampleSerializer(serializers.Serializer):
    name = serializers.CharField()
    manifest = serializers.CharField(source="text")


# Reads an incidents.selectors.RuleView: registry metadata and the linked stories.
class RuleSerializer(serializers.Serializer):
    id = serializers.CharField(source="rule.id")
    slug = serializers.CharField(source="rule.slug")
    title = serializers.CharField(source="rule.title")
    severity = serializers.ChoiceField(
        choices=["info", "warning", "error"], source="rule.severity.label"
    )
    type = serializers.ChoiceField(choices=["manifest", "runtime"], source="rule.rule_type")
    kinds = serializers.ListField(child=serializers.CharField(), source="rule.kinds")
    checks = serializers.CharField(help_text="What it checks (Markdown).", source="rule.checks")
    url = AbsoluteUrlField(lambda view: reverse("incidents:rule", args=[view.rule.id]))
    api_url = AbsoluteUrlField(lambda view: reverse("api:rule-detail", args=[view.rule.id]))
    stories = RuleStorySerializer(many=True)


class RuleDetailSerializer(RuleSerializer):
    why = serializers.CharField(help_text="Why it matters (Markdown).", source="rule.why")
    fix = serializers.CharField(help_text="How to fix it (Markdown).", source="rule.fix")
    fix_example = serializers.CharField(
        help_text="A corrected YAML snippet.", source="rule.fix_example"
    )
    references = serializers.ListField(child=serializers.CharField(), source="rule.references")
    failing_examples = RuleExampleSerializer(many=True)
    passing_examples = RuleExampleSerializer(many=True)
    expr = serializers.CharField(
        required=False, help_text="Runtime rules: the PromQL alert.", source="rule.expr"
    )


class RuleListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = RuleSerializer(many=True)


class MatchRequestSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=100_000,
        trim_whitespace=True,
        help_text="An error message, `kubectl describe`/`get events` output, k8sgpt JSON...",
    )
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)


class MatchResultSerializer(StoryListItemSerializer):
    matched_terms = serializers.SerializerMethodField(help_text="The words that explain a match.")

    def get_matched_terms(self, story: Story) -> list[str]:
        return list(self.context.get("matched", {}).get(story.pk, []))


class MatchResponseSerializer(serializers.Serializer):
    results = MatchResultSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
