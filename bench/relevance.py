"""Relevance on the curated stories: hit@3 and graded nDCG@5 per backend, one run.

    .venv/bin/python bench/relevance.py                       # Whoosh (SQLite scratch database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_x .venv/bin/python bench/relevance.py
                                                              # Whoosh and PostgreSQL

Loads the curated stories into a fresh test database (Django's test database for the
configured one: `test_<name>` on PostgreSQL, created and dropped here; the configured database
itself is not touched), builds each backend's index and runs both relevance suites:
the short-query suite (`tests/search/short_queries.py`: hit@3, graded nDCG@5, per kind of
query) and the symptom-worded suite (`tests/search/test_relevance.py`: hit@3). `--misses`
lists the queries that miss, with what ranked instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(tmp: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    os.environ["KB_VAR_DIR"] = str(tmp)
    os.environ["KB_TESTING"] = "true"
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()


def ranked(query: str, n: int = 5) -> list[str]:
    from incidents import search

    return [h.story.slug for h in search.search(query, per_page=n, highlight=False).hits]


def run_backend(name: str, show_misses: bool) -> dict[str, float]:
    from django.conf import settings

    from incidents import search
    from tests.search import short_queries as sq
    from tests.search.test_relevance import CASES as SYMPTOM_CASES

    settings.KB_SEARCH_BACKEND = name
    search.clear_caches()
    search.rebuild()
    by_kind: dict[str, list[tuple[bool, float]]] = {}
    misses = []
    for case in sq.CASES:
        top = ranked(case.query)
        hit, ndcg = sq.hit_at_3(case, top), sq.ndcg_at_5(case, top)
        by_kind.setdefault(case.kind, []).append((hit, ndcg))
        if not hit or ndcg < 0.5:
            misses.append(f"    {case.query!r}: want {' '.join(case.must)}; got {' '.join(top)}")
    rows = [r for rs in by_kind.values() for r in rs]
    hit3 = sum(h for h, _ in rows) / len(rows)
    ndcg5 = statistics.mean(n for _, n in rows)
    print(f"{name}: short queries ({len(rows)}): hit@3 {hit3:.1%}  nDCG@5 {ndcg5:.3f}")
    for kind, rs in sorted(by_kind.items()):
        print(
            f"    {kind:<8} {len(rs):3d}  hit@3 {sum(h for h, _ in rs) / len(rs):6.1%}"
            f"  nDCG@5 {statistics.mean(n for _, n in rs):.3f}"
        )
    old_hits = 0
    old_misses = []
    for query, wanted in SYMPTOM_CASES:
        top = ranked(query, 3)
        if set(top) & set(wanted):
            old_hits += 1
        else:
            old_misses.append(f"    {query!r}: want {wanted[0]}; got {' '.join(top)}")
    old = old_hits / len(SYMPTOM_CASES)
    print(f"{name}: symptom queries ({len(SYMPTOM_CASES)}): hit@3 {old:.1%}")
    if show_misses:
        print("  short-query misses (not in the top 3, or nDCG@5 below 0.5):", *misses, sep="\n")
        print("  symptom-query misses:", *old_misses, sep="\n")
    return {"hit3": hit3, "ndcg5": ndcg5, "symptom_hit3": old}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="whoosh,postgres")
    parser.add_argument("--misses", action="store_true", help="list the queries that miss")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kb-relevance-"))
    setup_django(tmp)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.KB_SEARCH_INDEX_DIR = tmp / "search"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        call_command("load_stories", verbosity=0)
        backends = [b for b in ("whoosh", "postgres") if b in args.backends.split(",")]
        if not settings.IS_POSTGRES and "postgres" in backends:
            backends.remove("postgres")
            print("(no PostgreSQL DATABASE_URL: skipping the PostgreSQL backend)")
        for name in backends:
            run_backend(name, args.misses)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
