"""Search benchmark: Whoosh backend, PostgreSQL backend and an SQLite FTS5 reference, one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench .venv/bin/python bench/search_bench.py

Builds deterministic synthetic corpora (1,000 and 10,000 stories by default) in the database
given by DATABASE_URL (it is wiped: use a scratch database; without DATABASE_URL a temporary
SQLite file is used and the PostgreSQL backend is skipped), then prints for each backend the
index build rate, index size and query latency p50/p95/p99 with and without highlights over a
fixed mix of ~300 queries (one term, several terms, phrase, filtered, misspelt; each query on
every backend and the reference in turn, so that the machine's drift slows them alike), then the
time per phase and the API's list in a non-relevance order (`ordering=-year|title|-published_at`,
pages 1 and 5). It runs on one core (--cpu, default 0): itself and the PostgreSQL server process
serving its connection.
The FTS5 reference indexes the same documents with the same field weights and answers with
bm25() and snippet() (no facets, no suggestions): a floor, not a competitor.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TECH_WORDS = """coredns conntrack kubelet etcd ingress nginx istio envoy calico cilium iptables ipvs
kube-proxy scheduler autoscaler hpa daemonset cronjob configmap secret helm terraform kops eks
gke aks prometheus grafana fluentd elasticsearch kafka redis postgres linkerd skipper alb elb nlb
""".split()  # noqa: SIM905
SYMPTOM_WORDS = """timeout latency oomkilled crashloopbackoff pending evicted notready throttling
502 503 504 nxdomain servfail refused reset dropped packet loss restart backoff failedscheduling
exhausted leak spike outage degraded unreachable slow stalled stuck flapping partition quorum
certificate expired drain upgrade rollback rollout deploy scaling memory cpu disk inode dns
""".split()  # noqa: SIM905
FILLER = """the a of to and in for on with during after before while because when then team
cluster node nodes pod pods service services traffic request requests error errors production
customer customers minutes hours engineers alert alerts metric metrics config change changes
application applications network networking load balancer zone region account control plane
worker workers queue job jobs image registry version versions limit limits resource resources
""".split()  # noqa: SIM905


def synthetic_words(rng: random.Random, n: int) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    out = set()
    while len(out) < n:
        k = rng.randint(2, 4)
        out.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(k)))
    return sorted(out)


def make_corpus(n: int, seed: int = 42) -> list[dict]:
    rng = random.Random(seed)
    vocab = synthetic_words(rng, 4000)
    weights = [1 / (i + 1) for i in range(len(vocab))]  # Zipf-like

    def text(k: int, specials: float) -> str:
        out = []
        for _ in range(k):
            r = rng.random()
            if r < specials:
                out.append(rng.choice(SYMPTOM_WORDS + TECH_WORDS))
            elif r < 0.55:
                out.append(rng.choice(FILLER))
            else:
                out.append(rng.choices(vocab, weights)[0])
        return " ".join(out)

    docs = []
    for i in range(n):
        docs.append(
            {
                "i": i,
                "title": text(rng.randint(5, 9), 0.35).capitalize(),
                "organisation": f"Org{rng.randint(1, 300)}",
                "year": rng.randint(2016, 2025),
                "platform": rng.choice(["gke", "eks", "aks", "aws", "on-premise", "unknown"]),
                "source_kind": rng.choice(["blog-post", "postmortem", "talk", "incident-report"]),
                "summary": text(rng.randint(50, 90), 0.12),
                "symptom": text(rng.randint(30, 70), 0.2),
                "contributing_factors": text(rng.randint(60, 140), 0.08),
                "fix": text(rng.randint(40, 100), 0.08),
                "detection": text(rng.randint(20, 60), 0.08),
                "impact": text(rng.randint(10, 30), 0.05),
                "techs": rng.sample(range(40), rng.randint(1, 4)),
                "cats": rng.sample(range(12), rng.randint(1, 3)),
            }
        )
    return docs


def make_queries(seed: int = 7) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    vocab = synthetic_words(random.Random(42), 4000)[:600]
    terms = SYMPTOM_WORDS + TECH_WORDS
    queries: list[tuple[str, dict]] = []
    for _ in range(60):
        queries.append((rng.choice(terms + vocab[:100]), {}))
    for _ in range(120):
        k = rng.randint(2, 6)
        queries.append((" ".join(rng.choice(terms + FILLER[20:] + vocab) for _ in range(k)), {}))
    for _ in range(40):
        queries.append((f'"{rng.choice(FILLER[20:])} {rng.choice(FILLER[20:])}"', {}))
    for _ in range(40):
        q = " ".join(rng.choice(terms) for _ in range(rng.randint(1, 3)))
        filt = rng.choice(
            [{"platform": ["gke"]}, {"year": [str(rng.randint(2016, 2025))]}, {"category": ["c3"]}]
        )
        queries.append((q, filt))
    for _ in range(40):
        w = rng.choice([t for t in terms if len(t) > 5])
        i = rng.randint(1, len(w) - 2)
        queries.append((w[:i] + w[i + 1] + w[i] + w[i + 2 :] + " " + rng.choice(terms), {}))
    return queries


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def report(name: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return (
        f"{name:<34} p50 {pct(ms, 50):7.2f} ms  p95 {pct(ms, 95):7.2f} ms  "
        f"p99 {pct(ms, 99):7.2f} ms  mean {statistics.mean(ms):6.2f} ms"
    )


def setup_django(tmp: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    os.environ["KB_VAR_DIR"] = str(tmp)
    os.environ["KB_TESTING"] = "true"
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import OperationalError

    try:
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)  # the page cache's data version, as deployed
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.exit(
            f"search_bench: cannot use the database in DATABASE_URL ({first}). Create a scratch "
            "database first (it is wiped), e.g. createdb -h 127.0.0.1 -U postgres kb_bench"
        )


def load_corpus(docs: list[dict]) -> None:
    from django.db import transaction

    from incidents.models import Category, Story, Technology

    with transaction.atomic():
        Story.objects.all().delete()
        Technology.objects.all().delete()
        Category.objects.all().delete()
        techs = Technology.objects.bulk_create(
            [
                Technology(slug=f"t{i}", name=f"Tech {TECH_WORDS[i % len(TECH_WORDS)]} {i}")
                for i in range(40)
            ]
        )
        cats = Category.objects.bulk_create(
            [Category(slug=f"c{i}", name=f"Category {i}") for i in range(12)]
        )
        fields = ("title", "organisation", "year", "platform", "source_kind", "summary")
        fields += ("symptom", "contributing_factors", "fix", "detection", "impact")
        stories = Story.objects.bulk_create(
            [
                Story(
                    slug=f"s{d['i']}",
                    source_url=f"https://example.com/{d['i']}",
                    status="published",
                    provenance="full",
                    **{f: d[f] for f in fields},
                )
                for d in docs
            ],
            batch_size=1000,
        )
        t_through = Story.technologies.through
        c_through = Story.categories.through
        t_through.objects.bulk_create(
            [
                t_through(story_id=s.pk, technology_id=techs[t].pk)
                for s, d in zip(stories, docs, strict=True)
                for t in d["techs"]
            ],
            batch_size=5000,
        )
        c_through.objects.bulk_create(
            [
                c_through(story_id=s.pk, category_id=cats[c].pk)
                for s, d in zip(stories, docs, strict=True)
                for c in d["cats"]
            ],
            batch_size=5000,
        )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:  # fresh statistics, as autovacuum would give them
            cur.execute("ANALYZE")


class Split:
    """Where a search's time goes, per phase: timing wrappers around the search engine's steps
    (engine.py), installed by the bench only. Facet counting inside Whoosh's execute is timed
    apart; PostgreSQL counts facets in its one statement (part of "execute")."""

    PHASES = ("parse", "execute", "facets", "hits", "highlight", "suggest")

    def __init__(self) -> None:
        self.spent: dict[str, float] = dict.fromkeys(self.PHASES, 0.0)
        self.inner = 0.0  # time of phases nested in "execute", subtracted from it
        self.saved: list[tuple[object, str, object]] = []

    def wrap(self, owner, attr: str, phase: str, nested: bool = False) -> None:
        inner = getattr(owner, attr)
        self.saved.append((owner, attr, inner))

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.perf_counter() - t
                self.spent[phase] += spent
                if nested:
                    self.inner += spent

        setattr(owner, attr, timed)

    def restore(self) -> None:
        for owner, attr, inner in reversed(self.saved):
            setattr(owner, attr, inner)

    def install(self, backend_module) -> None:
        import incidents.search as search
        from incidents.search import engine, whoosh_backend

        self.wrap(search, "parse", "parse")
        self.wrap(backend_module, "execute", "execute")
        self.wrap(whoosh_backend, "_facet_counts", "facets", nested=True)
        self.wrap(engine, "build_facets", "facets")
        self.wrap(engine, "load_hits_stories", "hits")
        self.wrap(backend_module, "highlight", "highlight")
        self.wrap(engine, "suggest", "suggest")

    def report(self, queries: int) -> str:
        spent = dict(self.spent)
        spent["execute"] -= self.inner
        return "  ".join(f"{k} {v / queries * 1000:6.2f}" for k, v in spent.items())


def bench_split(name: str, queries) -> None:
    """One more pass with highlights, timed per phase (ms per query, mean)."""
    import importlib

    from incidents import search

    module = importlib.import_module(f"incidents.search.{name}_backend")
    split = Split()
    split.install(module)
    try:
        for q, f in queries:
            search.search(q, filters=f, highlight=True)
    finally:
        split.restore()
    print(f"  {name} split, ms per query: {split.report(len(queries))}")


def build_backend(name: str) -> None:
    from django.conf import settings

    from incidents import search

    settings.KB_SEARCH_BACKEND = name
    start = time.perf_counter()
    count = search.rebuild()
    build = time.perf_counter() - start
    size = search.backend().index_size_bytes()
    print(
        f"{name:<10} build {count} stories in {build:6.2f} s = {count / build:7.0f} stories/s;"
        f" index {size / 1e6:6.1f} MB"
    )


def backend_runner(name: str):
    """search() on backend `name`, with a hit cache of its own (as if it ran in a process of
    its own: the backends' pages hold mostly the same stories, and sharing the cache would let
    each load the other's)."""
    from django.conf import settings

    from incidents import search
    from incidents.search import hitcache

    own = hitcache.StoryCache()

    def run(q: str, f: dict, highlight: bool) -> None:
        settings.KB_SEARCH_BACKEND = name
        hitcache.STORIES = own
        search.search(q, filters=f, highlight=highlight)

    return run


def bench_latency(runners: dict, queries, n: int) -> None:
    """Each query on every backend in turn (the order rotating from one query to the next), so
    a machine whose speed drifts over the minutes a run takes slows all of them alike: run one
    after the other, a backend measured in a slow minute looked slower than the reference
    measured in a fast one."""
    from incidents.search import hitcache

    shared = hitcache.STORIES
    names = list(runners)
    for name in names:  # warm-up: open the searcher, fill caches the way traffic would
        for q, f in queries[:20]:
            runners[name](q, f, True)
    for highlight in (True, False):
        times: dict[str, list[float]] = {name: [] for name in names}
        for i, (q, f) in enumerate(queries):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                t = time.perf_counter()
                runners[name](q, f, highlight)
                times[name].append(time.perf_counter() - t)
        for name in names:
            label = f"{name} n={n} " + ("with highlights" if highlight else "no highlights")
            print("  " + report(label, times[name]))
            if highlight:
                STATS[(name, n)] = pct(times[name], 95)
    hitcache.STORIES = shared


ORDERINGS = ("-year", "title", "-published_at")


def bench_ordered(name: str, queries, n: int) -> None:
    """The API's list in a non-relevance order (`?ordering=`): the first and the fifth page of 10
    through selectors.StorySearch, for an empty query (browsing) and the first 60 queries."""
    from incidents.selectors import StorySearch

    ordered = [("", {}), *queries[:60]]
    for page in (1, 5):
        times = []
        for ordering in ORDERINGS:
            for q, f in ordered:
                t = time.perf_counter()
                found = StorySearch(q, filters=f, ordering=ordering)
                found.window(page=page, per_page=10)
                found.count()
                times.append(time.perf_counter() - t)
        label = f"{name} n={n} ordered page {page}"
        print("  " + report(label, times))


def fts5_runner(docs: list[dict]):
    """Index `docs` in an in-memory FTS5 table; return a function that answers a query the way
    the reference does (the page by bm25 and its count, with a snippet if highlighting)."""
    import re

    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(head, symptom, body, platform UNINDEXED, "
        "year UNINDEXED, tokenize='porter unicode61')"
    )
    start = time.perf_counter()
    with db:
        db.executemany(
            "INSERT INTO docs(rowid, head, symptom, body, platform, year) VALUES (?,?,?,?,?,?)",
            [
                (
                    d["i"] + 1,
                    f"{d['title']} {d['organisation']}",
                    f"{d['symptom']} {d['summary']}",
                    " ".join(d[f] for f in ("contributing_factors", "fix", "detection", "impact")),
                    d["platform"],
                    d["year"],
                )
                for d in docs
            ],
        )
    build = time.perf_counter() - start
    size = db.execute("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
    print(
        f"{'fts5':<10} build {len(docs)} stories in {build:6.2f} s = {len(docs) / build:7.0f} "
        f"stories/s; index {size.fetchone()[0] / 1e6:6.1f} MB"
    )

    def fts_query(q: str) -> str:
        phrases = re.findall(r'"([^"]*)"', q)
        words = re.findall(r"\w+", re.sub(r'"[^"]*"', " ", q))
        parts = ['"' + " ".join(re.findall(r"\w+", p)) + '"' for p in phrases if p.strip()]
        parts += ['"' + w + '"' for w in words]
        return " OR ".join(parts) or '""'

    def run(q: str, f: dict, highlight: bool) -> None:
        cols = "rowid, bm25(docs, 3.0, 1.8, 1.0)"
        if highlight:
            cols += ", snippet(docs, 1, '<mark>', '</mark>', '…', 24)"
        where, params = "docs MATCH ?", [fts_query(q)]
        if "platform" in f:
            where += " AND platform = ?"
            params.append(f["platform"][0])
        if "year" in f:
            where += " AND year = ?"
            params.append(int(f["year"][0]))
        db.execute(
            f"SELECT {cols} FROM docs WHERE {where} ORDER BY bm25(docs, 3.0, 1.8, 1.0) LIMIT 10",
            params,
        ).fetchall()
        db.execute(f"SELECT count(*) FROM docs WHERE {where}", params).fetchone()

    return run


STATS: dict[tuple[str, int], float] = {}


def pin_to_one_core(cpu: int) -> None:
    """Run the measurement on one core: this process and, on PostgreSQL, the server process
    that serves its connection (client and server take turns, so they share it)."""
    if cpu < 0 or not hasattr(os, "sched_setaffinity"):
        print("(not pinned: every core may be used)")
        return
    from django.db import connection

    os.sched_setaffinity(0, {cpu})
    pinned = "this process"
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        try:
            os.sched_setaffinity(pid, {cpu})
            pinned += f" and its PostgreSQL backend (pid {pid})"
        except OSError as exc:  # a server on another host, or not ours to pin
            pinned += f" (its PostgreSQL backend could not be pinned: {exc.strerror})"
    print(f"pinned to CPU {cpu}: {pinned}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument(
        "--backends", default="whoosh,postgres", help="comma-separated subset (FTS5 always runs)"
    )
    parser.add_argument(
        "--cpu", type=int, default=0, help="the one core to run on (-1: do not pin)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    setup_django(tmp)
    pin_to_one_core(args.cpu)
    from django.conf import settings

    settings.KB_SEARCH_INDEX_DIR = tmp / "search"
    wanted = args.backends.split(",")
    backends = [b for b in ("whoosh", "postgres") if b in wanted]
    if not settings.IS_POSTGRES and "postgres" in backends:
        backends.remove("postgres")
    if not settings.IS_POSTGRES:
        print("(no PostgreSQL DATABASE_URL: skipping the PostgreSQL backend)")
    queries = make_queries()
    print(f"{len(queries)} queries: 60 one-term, 120 multi-term, 40 phrase, 40 filtered, 40 typo")
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"\n== {n} stories ==")
        docs = make_corpus(n)
        load_corpus(docs)
        for name in backends:
            build_backend(name)
        runners = {name: backend_runner(name) for name in backends}
        runners["fts5"] = fts5_runner(docs)
        bench_latency(runners, queries, n)
        for name in backends:
            settings.KB_SEARCH_BACKEND = name
            bench_split(name, queries)
            bench_ordered(name, queries, n)
        base = STATS.get(("fts5", n))
        for name in backends:
            if base and (name, n) in STATS:
                print(f"  {name}: p95 with highlights = {STATS[(name, n)] / base:.1f}x FTS5")


if __name__ == "__main__":
    main()
