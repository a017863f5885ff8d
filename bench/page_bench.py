"""Page benchmark: server time of every public page on the curated data.

    .venv/bin/python bench/page_bench.py [--runs 30] [--budget-ms 50]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_pagebench \
        .venv/bin/python bench/page_bench.py

Loads the curated stories (and the rule links, when `sync_rules` exists) into a scratch
database: a temporary SQLite file by default, or the database named by DATABASE_URL (it is
migrated and loaded, so use a scratch database). Builds the search index, then requests each
page through Django's test client (the full middleware stack, no network) `--runs` times after
one warm-up request, and prints wall-clock p50 / p95 / max and the CPU-time p50 in milliseconds
(CPU time tells a slow page from a busy machine) and the page size. Pages whose wall p95 is
over the budget are marked; the exit status is 1 when any is.
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


def setup(var_dir: str) -> None:
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
    commands = get_commands()
    if "sync_rules" in commands:
        call_command("sync_rules", verbosity=0)
    call_command("load_stories", verbosity=0, stdout=io.StringIO())
    if "sync_rules" in commands:  # links need both rules and stories
        call_command("sync_rules", verbosity=0)
    from incidents import search

    search.rebuild()


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
        ("sitemap", "/sitemap.xml", None),
        ("suggest form", "/suggest/", None),
    ]


def measure(runs: int, budget_ms: float) -> int:
    from django.core.cache import cache
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    over = 0
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'KiB':>8}")
    for label, path, data in pages():
        timings, cpu = [], []
        size = 0
        for i in range(runs + 1):
            if label == "sitemap":
                cache.clear()  # the sitemap is cached for 15 minutes: measure the render
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.post(path, data) if data is not None else client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
            elapsed_cpu = (time.process_time() - start_cpu) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{label}: {path} answered {response.status_code}")
            size = len(response.content)
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-pagebench-") as var_dir:
        started = time.perf_counter()
        setup(var_dir)
        from django.db import connection

        print(
            f"database: {connection.vendor}, data loaded and indexed in "
            f"{time.perf_counter() - started:.1f} s\n"
        )
        return measure(args.runs, args.budget_ms)


if __name__ == "__main__":
    sys.exit(main())
