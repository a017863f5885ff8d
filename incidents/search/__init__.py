"""The search interface. Pages, the API, chat and commands call only these functions.

Searching
    search(query, *, filters=None, page=1, per_page=10, ordering="relevance", highlight=True,
           published_only=True) -> SearchResults with
           .hits        [Hit(story, score, highlights, matched_terms)]; `story` is a Story with
                        categories and technologies prefetched; `highlights` maps a field
                        ("title", "symptom", "summary") to a safe HTML fragment in which <mark>
                        is the only markup (mark it safe in templates); `matched_terms` are the
                        user's words / technology aliases the story matched.
           .total, .page, .per_page (and .pages, .has_next)
           .facets      {"category"|"technology"|"platform"|"year"|"source_kind":
                         [(value, label, count)]}, counted over the current query and filters
           .suggestion  a corrected query string ("did you mean") or None
           .query       the normalised query (what was understood)
           .corrected   True when the hits are those of `suggestion`: the query as typed found
                        at most ALMOST_NOTHING stories and the correction finds more
                        ("showing results for <suggestion>, search instead for <original>");
                        .original is then the query as typed. correct=False turns this off.
        Query syntax (never raises, any input is valid; see incidents.search.query):
           plain words (stemmed, ranked OR with a bonus for matching more of them),
           technology aliases ("OOMKilled", "exit code 137", "bad gateway", "ndots"),
           "quoted phrases" (required), -word / -"a phrase" (excluded),
           org:zalando tech:coredns cat:dns platform:gke year:2019 kind:postmortem rules:true.
        filters: {"category"|"technology"|"platform"|"year"|"source_kind"|"has_rules": [values]}
           (has_rules: "true"/"false"); values of one key are OR-ed, keys are AND-ed. An unknown
           key raises SearchQueryError (a ValueError). An empty query browses newest first.
        page beyond the last page gives no hits (and the right total); per_page is capped at 100.
        ordering: a name of fields.ORDERINGS ("relevance", "-year", "year", "title", "-title",
           "-published_at"); each backend orders where it stores the values and reads only the
           page; ties are broken by story id, so pages never overlap. Another name raises
           SearchQueryError.

    more_like_this(story, limit=5) -> [(Story, [shared terms])]
    match_text(text, limit=5) -> [(Story, [matched terms], score)]
        Free text (an error message, `kubectl describe` / `kubectl get events` output, k8sgpt
        JSON) -> likely stories. Input is bounded to MAX_MATCH_CHARS.

Index maintenance
    index_stories_on_commit(ids) / remove_stories_on_commit(ids)
        Called by services inside their transaction; the index is updated after COMMIT (never
        before; a rollback leaves no trace). Errors are logged, not raised to the user; the
        system check and `rebuild_search_index --check` catch anything missed.
    rebuild(progress=None) -> int          build a fresh index and swap it in atomically
    check_index(fix=False) -> CheckReport  stories whose indexed version/content differs, and
                                           whether the index answers a search at all (probe())
    index_status() -> dict                 cheap health summary (used by the system check)

Backends: incidents.search.whoosh_backend (default) and incidents.search.postgres_backend
(default when the database is PostgreSQL), chosen by settings.KB_SEARCH_BACKEND. Both implement
engine.SearchBackend (storage and scoring only); the query plan, results, highlights' fields and
did-you-mean are engine's, the filters and facets are declared in fields. Nothing outside the
Whoosh modules imports Whoosh. Design notes: docs/search.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from incidents.search import engine, fields
from incidents.search.documents import Hit, SearchResults, stories_for_indexing, story_doc
from incidents.search.engine import SearchBackend
from incidents.search.match import MAX_MATCH_CHARS, extract_query
from incidents.search.query import AliasGroup, ParsedQuery, SearchQueryError, parse

__all__ = [
    "MAX_MATCH_CHARS",
    "CheckReport",
    "Hit",
    "SearchQueryError",
    "SearchResults",
    "check_index",
    "clear_caches",
    "index_status",
    "index_stories_on_commit",
    "match_text",
    "more_like_this",
    "probe",
    "rebuild",
    "remove_stories_on_commit",
    "search",
]

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
MAX_PAGE = 1000
# A query as typed that finds at most this many stories "finds almost nothing": when its
# did-you-mean finds more, the corrected results are shown instead (criterion in docs/search.md).
ALMOST_NOTHING = 2


def backend() -> SearchBackend:
    if settings.KB_SEARCH_BACKEND == "postgres":
        from incidents.search import postgres_backend

        return postgres_backend
    from incidents.search import whoosh_backend

    return whoosh_backend


def search(
    query: str,
    *,
    filters: Mapping[str, list[str]] | None = None,
    page: int = 1,
    per_page: int = 10,
    ordering: str = fields.RELEVANCE,
    highlight: bool = True,
    published_only: bool = True,
    correct: bool = True,
) -> SearchResults:
    parsed = parse(query, filters)
    page = min(max(1, int(page)), MAX_PAGE)
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    b = backend()
    options = {
        "page": page,
        "per_page": per_page,
        "highlight": highlight,
        "published_only": published_only,
        "ordering": ordering,
    }
    results = engine.run(b, engine.plan(parsed, **options))
    if correct and results.suggestion and results.total <= ALMOST_NOTHING:
        fixed = engine.run(b, engine.plan(parse(results.suggestion, filters), **options))
        if fixed.total > results.total:
            fixed.suggestion, fixed.corrected, fixed.original = fixed.query, True, results.query
            return fixed
    return results


def more_like_this(story, limit: int = 5) -> list[tuple]:
    """Published stories related to `story`, each with the terms they share with it."""
    b = backend()
    terms = b.more_like_this_terms(story)
    techs = [AliasGroup(t.slug, t.name, ()) for t in story.technologies.all().order_by("slug")[:8]]
    if not terms and not techs:
        return []
    parsed = ParsedQuery(text=" ".join(terms), terms=terms, aliases=techs)
    results = engine.run(b, engine.plan(parsed, per_page=limit + 1, highlight=False))
    related = [(h.story, h.matched_terms) for h in results.hits if h.story.pk != story.pk]
    return related[:limit]


def match_text(text: str, limit: int = 5) -> list[tuple]:
    """Likely stories for a pasted error / describe / events excerpt / k8sgpt JSON."""
    query = extract_query(text or "", df=backend().term_document_frequency)
    if not query:
        return []
    limit = min(max(1, int(limit)), 20)
    results = engine.run(backend(), engine.plan(parse(query), per_page=limit, highlight=False))
    return [(h.story, h.matched_terms, h.score) for h in results.hits]


# --- Index maintenance ---------------------------------------------------------------------------


def clear_caches() -> None:
    """Forget per-process caches (technology aliases, facet labels, hit stories)."""
    from incidents.search import documents, hitcache, postgres_backend, query

    hitcache.STORIES.clear()
    query.clear_alias_cache()
    documents._labels_cache.clear()
    postgres_backend.clear_caches()


def _apply(ids: list[int]) -> None:
    backend().index_ids(ids)


def index_stories_on_commit(story_ids: Iterable[int]) -> None:
    """Schedule (re)indexing of these stories once the current transaction commits."""
    ids = sorted({int(i) for i in story_ids if i is not None})
    if ids:
        # A named function, not functools.partial: Django's robust on_commit logs a failing
        # hook by its __qualname__, which a partial lacks (the logging itself raised, turning
        # an index hiccup after a successful commit into a 500).
        def index_after_commit() -> None:
            _apply(ids)

        transaction.on_commit(index_after_commit, robust=True)


def remove_stories_on_commit(story_ids: Iterable[int]) -> None:
    """Schedule removal of these stories from the index once the current transaction commits.

    Removal and indexing are one operation: the backend re-reads each id from the database and
    removes those that no longer exist, so a delete followed by an undo is still correct.
    """
    index_stories_on_commit(story_ids)


def rebuild(*, progress: Callable[[int], None] | None = None) -> int:
    return backend().rebuild(progress=progress)


@dataclass
class CheckReport:
    backend: str
    stories: int = 0
    indexed: int = 0
    missing: list[int] = field(default_factory=list)  # in the database, not in the index
    stale: list[int] = field(default_factory=list)  # indexed version/content differs
    orphaned: list[int] = field(default_factory=list)  # in the index, not in the database
    # Why the index cannot answer a search ("" when it can): an index can hold every story at
    # its current version and still be unreadable by the search code.
    unusable: str = ""
    fixed: bool = False

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned or self.unusable)


def probe() -> str:
    """Run one search over every story through the backend; "" if it answers, else the cause
    (exception class and a short message, for operators: never shown to anonymous callers)."""
    try:
        engine.run(backend(), engine.plan(parse("pod restart"), per_page=1, published_only=False))
    except Exception as exc:  # any failure means the index cannot serve the pages
        log.warning("search index probe failed", exc_info=True)
        return f"{exc.__class__.__name__}: {str(exc)[:200]}"
    return ""


def check_index(fix: bool = False) -> CheckReport:
    """Compare every story's version and indexed content with the index; optionally repair."""
    b = backend()
    indexed = b.indexed_versions()
    report = CheckReport(backend=settings.KB_SEARCH_BACKEND, indexed=len(indexed))
    seen = set()
    for story in stories_for_indexing().order_by("pk").iterator(chunk_size=500):
        report.stories += 1
        seen.add(story.pk)
        doc = story_doc(story)
        got = indexed.get(story.pk)
        if got is None:
            report.missing.append(story.pk)
        elif got != (doc.version, doc.doc_hash):
            report.stale.append(story.pk)
    report.orphaned = sorted(set(indexed) - seen)
    report.unusable = probe()
    if fix and report.unusable:
        # Repairing entries cannot fix an unreadable index: rebuild it, then search again.
        b.rebuild()
        report.missing, report.stale, report.orphaned = [], [], []
        report.unusable = probe()
        report.fixed = not report.unusable
    elif fix and not report.ok:
        ids = report.missing + report.stale + report.orphaned
        for start in range(0, len(ids), 500):
            b.index_ids(ids[start : start + 500])
        report.fixed = True
    return report


def index_status() -> dict:
    """Cheap: does the index exist, and do indexed (id, version) pairs match the database?"""
    from incidents.models import Story

    b = backend()
    if not b.index_exists():
        return {"exists": False, "stale": 0}
    indexed = {pk: v for pk, (v, _) in b.indexed_versions().items()}
    db = dict(Story.objects.values_list("pk", "version"))
    stale = sum(1 for pk, v in db.items() if indexed.get(pk) != v)
    stale += len(set(indexed) - set(db))
    return {"exists": True, "stale": stale}
