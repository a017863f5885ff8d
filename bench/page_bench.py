"""Page benchmark: server time of every public page with 10,000 stories.

    .venv/bin/python bench/page_bench.py [--runs 30] [--budget-ms 50] [--stories 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_pagebench \
        .venv/bin/python bench/page_bench.py
    .venv/bin/python bench/page_bench.py --stories 0      # the curated stories only
    .venv/bin/python bench/page_bench.py --keep var/pagebench  # load once, reuse next time

Loads the curated stories (and the rule links, when `sync_rules` exists) into a scratch
database: a temporary SQLite file by default, or the database named by DATABASE_URL (it is
migrated and loaded, so use a scratch database). Then adds synthetic published stories until
there are `--stories` in all (default 10,000): text stitched from the curated records' sentences,
random categories, technologies, platforms, years and publication dates, a few drafts and a few
rule links, so every page works on a dataset of the size it must hold up to. Builds the search
index, then requests each
page through Django's test client (the full middleware stack, no network) `--runs` times after
one warm-up request, and prints wall-clock p50 / p95 / max and the CPU-time p50 in milliseconds
(CPU time tells a slow page from a busy machine) and the page size. Pages whose wall p95 is
over the budget are marked; the exit status is 1 when any is.

With `--keep DIR` the scratch database and index live in DIR and are kept: a later run with the
same DIR (and SQLite) measures again without loading and indexing 10,000 stories anew. `--only`
measures the pages whose label contains a word, e.g. `--only search`.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECK_MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: app
          image: example/api:latest
          resources: {limits: {cpu: 500m}}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}, timeoutSeconds: 1}
          readinessProbe: {httpGet: {path: /healthz, port: 8080}, timeoutSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
"""


def add_synthetic_stories(total: int, *, seed: int = 17) -> int:
    """Bulk-insert synthetic stories until `total` exist; returns how many were added.

    Rows go in with bulk_create (the service layer's per-story history and index hooks would
    take minutes at this size); the search index is rebuilt afterwards anyway.
    """
    import datetime
    import random
    import re

    from django.db import transaction
    from django.utils import timezone

    from incidents.models import (
        Category,
        Platform,
        Provenance,
        Rule,
        SourceKind,
        Status,
        Story,
        StoryRule,
        Technology,
    )

    existing = Story.objects.count()
    wanted = total - existing
    if wanted <= 0:
        return 0
    rng = random.Random(seed)
    curated = list(Story.objects.all())
    sentences: dict[str, list[str]] = {}
    for field in Story.MARKDOWN_FIELDS:
        pool = []
        for story in curated:
            pool += [s for s in re.split(r"(?<=[.!?])\s+", getattr(story, field)) if len(s) > 20]
        sentences[field] = pool or ["Pods restarted and requests timed out."]
    organisations = sorted({s.organisation for s in curated}) or ["Example"]
    categories = list(Category.objects.values_list("pk", flat=True))
    technologies = list(Technology.objects.values_list("pk", flat=True))
    rules = list(Rule.objects.values_list("pk", flat=True))
    words = sorted({w for s in curated for w in re.findall(r"[A-Za-z]{4,}", s.title)})
    platforms, kinds = Platform.values, SourceKind.values
    # "partial" needs the parts read named; synthetic records are whole or listing-only.
    provenances = [v for v in Provenance.values if v != "partial"]
    start = timezone.now() - datetime.timedelta(days=3 * 365)
    rows = []
    for i in range(wanted):
        n = existing + i + 1
        text = {f: " ".join(rng.sample(sentences[f], min(3, len(sentences[f])))) for f in sentences}
        published = rng.random() > 0.03
        rows.append(
            Story(
                slug=f"synthetic-{n:05d}",
                title=" ".join(rng.sample(words, min(6, len(words)))).capitalize() + f" ({n})",
                organisation=rng.choice(organisations) + f" {n % 700}",
                source_url=f"https://synthetic.example/stories/{n}",
                source_kind=rng.choice(kinds),
                year=rng.randint(2015, 2026),
                platform=rng.choice(platforms),
                status=Status.PUBLISHED if published else Status.DRAFT,
                provenance=rng.choice(provenances),
                published_at=start + datetime.timedelta(minutes=rng.randint(0, 3 * 365 * 1440))
                if published
                else None,
                **text,
            )
        )
    with transaction.atomic():
        Story.objects.bulk_create(rows, batch_size=500)
        ids = list(Story.objects.filter(slug__startswith="synthetic-").values_list("pk", flat=True))
        cat_links, tech_links, rule_links = [], [], []
        for pk in ids:
            for c in rng.sample(categories, min(rng.randint(1, 3), len(categories))):
                cat_links.append(Story.categories.through(story_id=pk, category_id=c))
            for t in rng.sample(technologies, min(rng.randint(1, 5), len(technologies))):
                tech_links.append(Story.technologies.through(story_id=pk, technology_id=t))
            if rules and rng.random() < 0.1:
                rule_links.append(
                    StoryRule(story_id=pk, rule_id=rng.choice(rules), note="Synthetic link.")
                )
        Story.categories.through.objects.bulk_create(cat_links, batch_size=2000)
        Story.technologies.through.objects.bulk_create(tech_links, batch_size=2000)
        StoryRule.objects.bulk_create(rule_links, batch_size=2000, ignore_conflicts=True)
    return wanted


def setup(var_dir: str, stories: int, *, reuse: bool = False) -> None:
    os.environ.setdefault("KB_VAR_DIR", var_dir)
    os.environ.setdefault("KB_SEARCH_INDEX_DIR", str(Path(var_dir) / "search"))
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("KB_TESTING", "true")  # test secret key, plain static storage
    os.environ.setdefault("LOG_LEVEL", "warning")
    os.environ.setdefault("KB_WEB_CHECK_THROTTLE", "100000000/minute")  # measure, not limit
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    import django

    django.setup()
    from django.core.management import call_command, get_commands

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    if reuse:
        from incidents.models import Story

        if Story.objects.count() >= stories and (Path(var_dir) / "search").exists():
            print(f"reusing the data in {var_dir}")
            return
    commands = get_commands()
    if "sync_rules" in commands:
        call_command("sync_rules", verbosity=0)
    call_command("load_stories", verbosity=0, stdout=io.StringIO())
    if "sync_rules" in commands:  # links need both rules and stories
        call_command("sync_rules", verbosity=0)
    added = add_synthetic_stories(stories)
    print(f"synthetic stories added: {added}")
    from incidents import search

    search.rebuild()
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum gives them within a minute of a bulk load:
        # without them PostgreSQL guesses 25 published stories and sorts all 10,000 rows.
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def pages() -> list[tuple[str, str, dict | None]]:
    """(label, path, POST data or None) for every page kind, with realistic arguments."""
    from incidents.models import Category, Platform, Status, Story, Technology
    from incidents.rules.registry import REGISTRY

    story = Story.objects.filter(status=Status.PUBLISHED).order_by("slug").first()
    linked = (
        Story.objects.filter(status=Status.PUBLISHED, rule_links__isnull=False).first() or story
    )
    category = Category.objects.filter(stories__isnull=False).order_by("slug").first()
    technology = Technology.objects.filter(stories__isnull=False).order_by("slug").first()
    rule = REGISTRY.all()[0]
    return [
        ("home", "/", None),
        ("story list", "/stories/", None),
        ("story", f"/stories/{story.slug}/", None),
        ("story with rules", f"/stories/{linked.slug}/", None),
        ("category", f"/categories/{category.slug}/", None),
        ("technology", f"/technologies/{technology.slug}/", None),
        ("platform", f"/platforms/{Platform.GKE}/", None),
        ("search: browse all", "/search/", None),
        ("search: one word", "/search/?q=dns", None),
        ("search: words+filters", "/search/?q=memory+limits&platform=eks&platform=gke", None),
        ("search: misspelt", "/search/?q=condtrack", None),
        ("search: no results", "/search/?q=zzzqqqxxx", None),
        ("rules catalog", "/rules/", None),
        ("rule", f"/rules/{rule.id}/", None),
        ("check form", "/check/", None),
        ("check: POST", "/check/", {"manifest": CHECK_MANIFEST}),
        ("check: SARIF", "/check/", {"manifest": CHECK_MANIFEST, "format": "sarif"}),
        ("overview", "/overview/", None),
        ("dataset page", "/data/", None),
        ("dataset JSON", "/data/stories.json", None),
        ("dataset CSV", "/data/stories.csv", None),
        ("feed: all", "/feeds/stories.atom", None),
        ("feed: category", f"/feeds/categories/{category.slug}.atom", None),
        ("sitemap index", "/sitemap.xml", None),
        ("sitemap: stories p1", "/sitemap-stories.xml", None),
        ("suggest form", "/suggest/", None),
    ]


def measure(runs: int, budget_ms: float, only: str = "") -> int:
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    run = time.time_ns()
    over = 0
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'KiB':>8}")
    for label, path, data in pages():
        if only and only not in label:
            continue
        timings, cpu = [], []
        size = 0
        for i in range(runs + 1):
            url = path
            if label.startswith("sitemap"):
                # Sitemaps are cached for 15 minutes by URL: a new query string each time
                # measures the render (the shared page aggregates stay warm, as in service).
                # The run's start time too: a --keep database keeps the cached responses.
                url += ("&" if "?" in path else "?") + f"bench={run}-{i}"
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.post(url, data) if data is not None else client.get(url)
            elapsed = (time.perf_counter() - start) * 1000
            elapsed_cpu = (time.process_time() - start_cpu) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{label}: {path} answered {response.status_code}")
            # Downloads are streamed from a file: timed until the response starts, as a
            # server hands the file to sendfile; read afterwards for the size only.
            body = b"".join(response.streaming_content) if response.streaming else response.content
            size = len(body)
            if i:  # the first request warms caches and imports
                timings.append(elapsed)
                cpu.append(elapsed_cpu)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        flag = "  OVER BUDGET" if p95 > budget_ms else ""
        over += bool(flag)
        print(
            f"{label:<24} {p50:8.1f} {p95:8.1f} {timings[-1]:8.1f} "
            f"{statistics.median(cpu):8.1f} {size / 1024:8.1f}{flag}"
        )
    print(f"\n{over} page(s) over the {budget_ms:g} ms p95 budget ({runs} runs each).")
    return 1 if over else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--budget-ms", type=float, default=50.0)
    parser.add_argument(
        "--stories", type=int, default=10_000, help="stories in all, synthetic ones added"
    )
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) the scratch data in DIR")
    parser.add_argument("--only", default="", help="only the pages whose label contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-pagebench-") as scratch:
        var_dir = str(Path(args.keep).resolve()) if args.keep else scratch
        Path(var_dir).mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        setup(var_dir, args.stories, reuse=bool(args.keep))
        from django.db import connection

        from incidents.models import Status, Story

        print(
            f"database: {connection.vendor}, {Story.objects.count()} stories "
            f"({Story.objects.filter(status=Status.PUBLISHED).count()} published), "
            f"data loaded and indexed in "
            f"{time.perf_counter() - started:.1f} s\n"
        )
        return measure(args.runs, args.budget_ms, args.only)


if __name__ == "__main__":
    sys.exit(main())
