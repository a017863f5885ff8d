"""The whole published dataset as JSON and CSV, with its schema stated once (FIELDS).

The download page, the JSON Schema and both files are generated from FIELDS, so the stated
schema cannot drift from what the files contain.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from incidents import pagecache, selectors
from incidents.models import Platform, Provenance, SourceKind
from incidents.views import pages

SCHEMA_VERSION = "2"  # 2: date split into published_date/incident_date; provenance levels
LIST_SEPARATOR = "; "
# (name, JSON type, description); enums are listed from the model choices.
FIELDS: list[tuple[str, str, str]] = [
    ("slug", "string", "Stable identifier of the story."),
    ("url", "string", "Permalink of the story on this site."),
    ("title", "string", "Title of the story."),
    ("organisation", "string", "Who the failure happened to."),
    ("source_url", "string", "The original write-up (unique)."),
    ("source_kind", "string", "Kind of source: " + ", ".join(SourceKind.values) + "."),
    ("year", "integer", "Year the source was published (corrected where the listing is wrong)."),
    ("listing_year", "integer|null", "The k8s.af listing's year, only when it differs."),
    ("published_date", "string|null", "The write-up's date (YYYY-MM-DD), only when stated."),
    ("incident_date", "string|null", "When it happened (YYYY-MM-DD), only when the source says."),
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
    (
        "provenance",
        "string",
        "How much of the source the record rests on: " + ", ".join(Provenance.values) + ".",
    ),
    ("read_parts", "string", "For a partial record: the parts of the source that were read."),
    ("read_from", "string", "The copy that was read, when not source_url; else empty."),
    ("read_on", "string|null", "When the source was read for the record (YYYY-MM-DD)."),
    ("published_at", "string|null", "When the record was published here (ISO 8601)."),
    ("updated_at", "string", "When the record last changed (ISO 8601)."),
]
NAMES = [name for name, _, _ in FIELDS]


def _records(request: HttpRequest) -> list[dict[str, Any]]:
    stories = list(selectors.story_list())
    rules = selectors.rule_ids_by_story()
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
            "listing_year": s.listing_year,
            "published_date": s.published_date.isoformat() if s.published_date else None,
            "incident_date": s.incident_date.isoformat() if s.incident_date else None,
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
            "read_parts": s.read_parts,
            "read_from": s.read_from,
            "read_on": s.read_on.isoformat() if s.read_on else None,
            "published_at": s.published_at.isoformat() if s.published_at else None,
            "updated_at": s.updated_at.isoformat(),
        }
        for s in stories
    ]


def json_schema(request: HttpRequest | None = None) -> dict[str, Any]:
    types = {
        "string": {"type": "string"},
        "integer": {"type": "integer"},
        "integer|null": {"type": ["integer", "null"]},
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


def _cached_file(request: HttpRequest, suffix: str, build: Callable[[], bytes]) -> Path | bytes:
    """The file for the current data version and site address, built once and kept on disk.

    Serialising every story costs seconds at 10,000 stories; the bytes only change when the data
    does (incidents.pagecache bumps the version on every write, and a file older than its TTL
    is rebuilt). Files of earlier versions are removed once they are a minute old, so a download
    already under way is not cut short.
    """
    directory = Path(settings.VAR_DIR) / "dataset"
    site = hashlib.sha256(request.build_absolute_uri("/").encode()).hexdigest()[:12]
    try:
        version = pagecache.data_version()
    except Exception:  # no shared cache: build every time, as before
        return build()
    path = directory / f"{version}-{site}{suffix}"
    try:
        if time.time() - path.stat().st_mtime < pagecache.TTL:
            return path
    except OSError:
        pass
    data = build()
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{path.name}.{os.getpid()}.partial"
    partial.write_bytes(data)
    os.replace(partial, path)
    for old in directory.glob(f"*{suffix}"):
        try:
            if old != path and time.time() - old.stat().st_mtime > 60:
                old.unlink()
        except OSError:
            pass  # another process removed it first
    return path


def _download(content: Path | bytes, content_type: str) -> HttpResponse:
    """A file on disk is streamed (the server can sendfile it); bytes are sent as they are."""
    if isinstance(content, bytes):
        return HttpResponse(content, content_type=content_type)
    try:
        handle = content.open("rb")
    except OSError:  # removed by a newer version between the check and the open: rare
        return HttpResponse(content.read_bytes(), content_type=content_type)
    return FileResponse(handle, content_type=content_type)


def dataset_page(request: HttpRequest) -> HttpResponse:
    count = pages.browse_counts()["stories"]
    return render(
        request,
        "incidents/dataset.html",
        {"fields": FIELDS, "count": count, "separator": LIST_SEPARATOR.strip()},
    )


def _json_bytes(request: HttpRequest) -> bytes:
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
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()


def dataset_json(request: HttpRequest) -> HttpResponse:
    response = _download(
        _cached_file(request, ".json", lambda: _json_bytes(request)), "application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="k8s-failure-stories.json"'
    return response


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    """A CSV cell that a spreadsheet will not run: text starting like a formula gets a leading
    apostrophe (OWASP's advice for CSV injection); numbers and other text are unchanged."""
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(value)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_bytes(request: HttpRequest) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(NAMES)
    for record in _records(request):
        writer.writerow(_cell(record[n]) for n in NAMES)
    return buffer.getvalue().encode()


def dataset_csv(request: HttpRequest) -> HttpResponse:
    response = _download(
        _cached_file(request, ".csv", lambda: _csv_bytes(request)), "text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="k8s-failure-stories.csv"'
    return response


def dataset_schema(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        json.dumps(json_schema(request), indent=2), content_type="application/schema+json"
    )
