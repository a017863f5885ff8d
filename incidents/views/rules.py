"""The rules catalog, one page per rule (generated from the registry) and the manifest check."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from incidents import pagecache, ratelimit, selectors
from incidents.forms import CheckForm
from incidents.models import Story
from incidents.views import rulebook

SEVERITY_ORDER = ("error", "warning", "info")
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
DOWNLOADS = {
    "json": ("application/json", "kb-check.json"),
    "sarif": ("application/sarif+json", "kb-check.sarif"),
}

SAMPLE_MANIFEST = """\
# A sample Deployment with a few classic mistakes. Press "Check" to see the findings.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: app
          image: example/checkout:1.4.2
          resources:
            requests: {cpu: 250m}
            limits: {cpu: 500m}
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
            timeoutSeconds: 1
            failureThreshold: 1
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}
            timeoutSeconds: 1
            failureThreshold: 1
"""


def rule_list(request: HttpRequest) -> HttpResponse:
    # The same for every reader; rebuilt when the data version changes (incidents.pagecache).
    # ":2": the entries' shape changed (story links and a count); never unpickle the old shape.
    rules = pagecache.cached("rule-catalog:2", rulebook.catalog)
    context = {
        "manifest_rules": [r for r in rules if r.kind == "manifest"],
        "runtime_rules": [r for r in rules if r.kind == "runtime"],
        "counts": {s: sum(r.severity == s for r in rules) for s in SEVERITY_ORDER},
    }
    return render(request, "incidents/rule_list.html", context)


def rule_detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    from incidents.rules.examples import examples_for
    from incidents.rules.registry import UnknownRule

    try:
        meta = rulebook.registry().lookup(rule_id)
    except UnknownRule:
        raise Http404("No rule with that ID.") from None
    if meta.id != rule_id:  # a slug or lower-case ID: one canonical address per rule
        return redirect("incidents:rule", rule_id=meta.id, permanent=True)
    examples = examples_for(meta.id)
    context = {
        "rule": meta,
        "severity": meta.severity.label,
        "evidence": rulebook.evidence_for(meta),
        "failing": [e for e in examples if e.fails],
        "passing": [e for e in examples if not e.fails],
        "suppression": f'kb.k8s.af/ignore: "{meta.id}: <why this is fine here>"',
        "params": getattr(meta, "params", ()),
    }
    return render(request, "incidents/rule_detail.html", context)


# --- Check my manifests ------------------------------------------------------------------------


@dataclass
class FindingView:
    rule: Any
    severity: str
    message: str
    path: str
    line: int | None
    stories: list[Story] = field(default_factory=list)
    fix: str = ""  # the rule's one-line remedy
    patch: str = ""  # the JSON Patch for this object, when the fix is mechanical


@dataclass
class ObjectGroup:
    kind: str
    name: str
    namespace: str
    api_version: str
    document: int
    file: str | None
    findings: list[FindingView]

    @property
    def worst(self) -> str:
        return min((f.severity for f in self.findings), key=SEVERITY_ORDER.index)


def _scope(slug: str) -> tuple[Story | None, list[rulebook.RuleRef]]:
    """The story a check is scoped to ("check my manifests for this") and its manifest rules."""
    if not slug or not _SLUG.fullmatch(slug):  # e.g. a NUL byte, which PostgreSQL refuses
        return None, []
    story = selectors.story_get(slug=slug)
    if story is None:
        return None, []
    return story, [r for r in rulebook.rules_for_story(story) if r.kind == "manifest"]


# The page shows the first objects with findings and the first input problems; the downloads
# hold them all. 10,000 objects with findings made a 9 s, 800 MB page nobody could read.
MAX_PAGE_OBJECTS = 200
MAX_PAGE_ERRORS = 100
STREAM_FINDINGS = 1000  # a larger JSON download is streamed
MAX_REDOWNLOAD_CHARS = 1024 * 1024  # inputs up to this size get the download buttons


def _groups(report, limit: int = MAX_PAGE_OBJECTS) -> list[ObjectGroup]:
    stories = selectors.stories_by_slugs({slug for f in report.findings for slug in f.rule.stories})
    groups = []
    for (file, document, kind, namespace, name, api_version), findings in report.by_object()[
        :limit
    ]:
        views = [
            FindingView(
                rule=f.rule,
                severity=f.severity.label,
                message=f.message,
                path=f.path,
                line=f.line,
                stories=[stories[s] for s in f.rule.stories if s in stories],
                fix=f.rule.fix_summary,
                patch=json.dumps(list(f.patch), indent=2) if f.patch else "",
            )
            for f in findings
        ]
        views.sort(key=lambda v: (SEVERITY_ORDER.index(v.severity), v.rule.id))
        groups.append(ObjectGroup(kind, name, namespace, api_version, document, file, views))
    return groups


def check(request: HttpRequest) -> HttpResponse:
    from incidents.rules.engine import check_text
    from incidents.rules.formats import StoryCache
    from incidents.rules.formats import render as render_report
    from incidents.rules.formats.json import iter_json

    if request.method == "POST":
        form = CheckForm(request.POST, request.FILES)
    else:
        initial = {"story": request.GET.get("story", "")}
        if request.GET.get("example"):
            initial["manifest"] = SAMPLE_MANIFEST
        form = CheckForm(initial=initial)
    slug = (form.data.get("story") if form.is_bound else form.initial.get("story")) or ""
    story, scoped_rules = _scope(str(slug)[:100])
    context: dict[str, Any] = {"form": form, "story": story, "scoped_rules": scoped_rules}
    if request.method != "POST":
        return render(request, "incidents/check.html", context)
    decision = ratelimit.consume(
        "web-check", ratelimit.client_key(request), settings.KB_WEB_CHECK_THROTTLE
    )
    if not decision.allowed:
        context.update(rate_limited=True, retry_after=decision.retry_after)
        response = render(request, "incidents/check.html", context, status=429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    if not form.is_valid():
        return render(request, "incidents/check.html", context, status=400)

    skip: set[str] = set()
    if scoped_rules:
        wanted = {r.id for r in scoped_rules}
        skip = {r.id for r in rulebook.registry().manifest_rules() if r.id not in wanted}
    report = check_text(form.cleaned_data["content"], skip=skip)

    fmt = request.POST.get("format", "html")
    if fmt in DOWNLOADS:
        content_type, filename = DOWNLOADS[fmt]
        resolver = selectors.report_story_resolver(absolute=request.build_absolute_uri)

        def rule_url(rule_id: str) -> str:
            return request.build_absolute_uri(reverse("incidents:rule", args=[rule_id]))

        if fmt == "json" and (
            len(report.findings) + len(report.errors) + len(report.warnings) > STREAM_FINDINGS
        ):
            # Streamed, one finding at a time (see the API's check).
            chunks = iter_json(report, stories=StoryCache(resolver), rule_url=rule_url)
            response = StreamingHttpResponse(
                (c.encode() for c in chunks), content_type=f"{content_type}; charset=utf-8"
            )
        else:
            body = render_report(report, fmt, story_resolver=resolver, rule_url=rule_url)
            response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    content = form.cleaned_data["content"]
    if len(content) > MAX_REDOWNLOAD_CHARS:
        # Carried back in the page for the download buttons, the text costs several copies of
        # itself (escaped, in the page, encoded): 50 MB for a 5 MB upload. Large inputs are
        # downloaded through the API or kbcheck instead. The text box is not refilled either.
        content = None
        context["form"] = CheckForm(initial={"story": slug})
    elif isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            content = None  # nothing to offer for re-download; errors already say why
    groups = _groups(report)
    objects_with_findings = len(report.by_object()) if len(groups) >= MAX_PAGE_OBJECTS else 0
    context.update(
        report=report,
        summary=report.summary,
        groups=groups,
        objects_not_shown=max(0, objects_with_findings - len(groups)),
        checked_text=content,
        filename=form.cleaned_data.get("name"),
        errors=sorted(report.errors, key=lambda e: (e.document or 0, e.line or 0))[
            :MAX_PAGE_ERRORS
        ],
    )
    return render(request, "incidents/check.html", context)
