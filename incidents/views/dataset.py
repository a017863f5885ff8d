"""The whole published dataset as JSON and CSV, with its schema stated once (FIELDS).

The download page, the JSON Schema and both files are generated from FIELDS, so the stated
schema cannot drift from what the files contain.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from incidents import selectors
from incidents.models import Platform, Provenance, SourceKind, Status, StoryRule

SCHEMA_VERSION = "1"
LIST_SEPARATOR = "; "
# (name, JSON type, description); enums are listed from the model choices.
FIELDS: list[tuple[str, str, str]] = [
    ("slug", "string", "Stable identifier of the story."),
    ("url", "string", "Permalink of the story on this site."),
    ("title", "string", "Title of the story."),
    ("organisation", "string", "Who the failure happened to."),
    ("source_url", "string", "The original write-up (unique)."),
    ("source_kind", "string", "Kind of source: " + ", ".join(SourceKind.values) + "."),
    ("year", "integer", "Year the source was published."),
    ("date", "string|null", "Date of the source (YYYY-MM-DD), only when the source states it."),
    ("platform", "string", "Where the cluster ran: " + ", ".join(Platform.values) + "."),
    ("categories", "array of string", "Category slugs."),
    ("technologies", "array of string", "Technology slugs."),
    ("rules", "array of string", "IDs of the rules linked to the story."),
    ("summary", "string", "What happened (Markdown)."),
    ("symptom", "string", "What people saw (Markdown)."),
    ("contributing_factors", "string", "Contributing factors / root cause (Markdown)."),
    ("fix", "string", "How it was fixed (Markdown)."),
    ("detection", "string", "How it was or could be detected (Markdown)."),
    ("impact", "string", "Who and what was affected (Markdown)."),
    ("provenance", "string", "Where the record came from: " + ", ".join(Provenance.values) + "."),
    ("published_at", "string|null", "When the record was published here (ISO 8601)."),
    ("updated_at", "string", "When the record last changed (ISO 8601)."),
]
NAMES = [name for name, _, _ in FIELDS]


def _records(request: HttpRequest) -> list[dict[str, Any]]:
    stories = list(selectors.story_list())
    rules: dict[int, list[str]] = {}
    for story_id, rule_id in StoryRule.objects.filter(
        story__status=Status.PUBLISHED, rule__active=True
    ).values_list("story_id", "rule__rule_id"):
        rules.setdefault(story_id, []).append(rule_id)
    base = request.build_absolute_uri("/").rstrip("/")
    return [
        {
            "slug": s.slug,
            "url": base + s.get_absolute_url(),
            "title": s.title,
            "organisation": s.organisation,
            "source_url": s.source_url,
            "source_kind": s.source_kind,
            "year": s.year,
            "date": s.date.isoformat() if s.date else None,
            "platform": s.platform,
            "categories": sorted(c.slug for c in s.categories.all()),
            "technologies": sorted(t.slug for t in s.technologies.all()),
            "rules": sorted(rules.get(s.pk, [])),
            "summary": s.summary,
            "symptom": s.symptom,
            "contributing_factors": s.contributing_factors,
            "fix": s.fix,
            "detection": s.detection,
            "impact": s.impact,
            "provenance": s.provenance,
            "published_at": s.published_at.isoformat() if s.published_at else None,
            "updated_at": s.updated_at.isoformat(),
        }
        for s in stories
    ]


def json_schema(request: HttpRequest | None = None) -> dict[str, Any]:
    types = {
        "string": {"type": "string"},
        "integer": {"type": "integer"},
        "string|null": {"type": ["string", "null"]},
        "array of string": {"type": "array", "items": {"type": "string"}},
    }
    story = {
        "type": "object",
        "required": NAMES,
        "properties": {n: {**types[t], "description": d} for n, t, d in FIELDS},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Kubernetes Failure KB dataset",
        "type": "object",
        "required": ["schema_version", "generated_at", "count", "stories"],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "generated_at": {"type": "string"},
            "count": {"type": "integer"},
            "license_note": {"type": "string"},
            "stories": {"type": "array", "items": story},
        },
    }


def dataset_page(request: HttpRequest) -> HttpResponse:
    count = selectors.story_list().count()
    return render(
        request,
        "incidents/dataset.html",
        {"fields": FIELDS, "count": count, "separator": LIST_SEPARATOR.strip()},
    )


def dataset_json(request: HttpRequest) -> HttpResponse:
    records = _records(request)
    data = {
        "schema_version": SCHEMA_VERSION,
        "schema": request.build_absolute_uri(reverse("incidents:dataset_schema")),
        "generated_at": timezone.now().isoformat(),
        "count": len(records),
        "license_note": "Summaries in our own words; the original write-ups belong to their "
        "authors (see source_url).",
        "stories": records,
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = 'attachment; filename="k8s-failure-stories.json"'
    return response


def dataset_csv(request: HttpRequest) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(NAMES)
    for record in _records(request):
        writer.writerow(
            LIST_SEPARATOR.join(v) if isinstance(v, list) else ("" if v is None else v)
            for v in (record[n] for n in NAMES)
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="k8s-failure-stories.csv"'
    return response


def dataset_schema(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        json.dumps(json_schema(request), indent=2), content_type="application/schema+json"
    )
