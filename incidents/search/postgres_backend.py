"""The PostgreSQL backend: weighted tsvector + GIN, ts_rank with IDF, ts_headline, pg_trgm.

Schema (owned by this module, created idempotently by ensure_schema(), which rebuild and the
indexing hooks call; nothing here is a Django model, so it never needs a migration and SQLite
databases never see it):

    kb_search_document(story_id PK, version, doc_hash, org, techs text[], vector tsvector,
                       status, year, platform, source_kind, sort_date, cats text[], rank_norm)
        vector = setweight(head, 'A') || setweight(symptom, 'B') || setweight(body, 'C')
        GIN index on vector. The filter and facet values are copied from the story (as the
        Whoosh index does), so a search reads this one table; rank_norm is ts_rank's length
        normalisation (log2(1 + positions)), computed once per document instead of per rank.
    kb_search_word(word PK, ndoc)   indexed surface words, trigram GIN index for "did you mean"

No foreign key to incidents_story: Django's test flush TRUNCATEs incidents_story, which a
referencing table would block. Deleted stories are removed by the on-commit hook, searches join
incidents_story for the page's hits (so a leftover row is never shown), and --check reports
orphans.

Queries are built from the parsed query: each word is its own plainto_tsquery (so user input is
data, never tsquery syntax), phrases use phraseto_tsquery, and scores are
sum(idf(group) * ts_rank(weights, vector, group)) * (1 + share of groups matched).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from html import escape

from django.db import connection, transaction

from incidents.models import Category, Status, Story, StoryRule
from incidents.search.documents import (
    Hit,
    SearchResults,
    StoryDoc,
    build_facets,
    load_hits_stories,
    plain_text,
    stories_for_indexing,
    story_doc,
)
from incidents.search.query import AliasGroup, ParsedQuery, replace_word, words
from incidents.search.spelling import distance

DOCS = "kb_search_document"
WORDS = "kb_search_word"
LEXEMES = "kb_search_lexeme"
WEIGHTS = "{0.1, 0.33, 0.6, 1.0}"  # D, C (body), B (symptom), A (head)
TECH_WEIGHT = 0.5  # ts_rank units an alias group scores when the story is tagged
COORD = 1.0
START, STOP = "\x01", "\x02"

SCHEMA_SQL = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE IF NOT EXISTS {DOCS} (
    story_id bigint PRIMARY KEY,
    version integer NOT NULL,
    doc_hash varchar(64) NOT NULL,
    org text NOT NULL DEFAULT '',
    techs text[] NOT NULL DEFAULT '{{}}',
    vector tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS {DOCS}_vector ON {DOCS} USING gin (vector);
CREATE TABLE IF NOT EXISTS {WORDS} (word text PRIMARY KEY, ndoc integer NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS {WORDS}_trgm ON {WORDS} USING gin (word gin_trgm_ops);
CREATE TABLE IF NOT EXISTS {LEXEMES} (lexeme text PRIMARY KEY, ndoc integer NOT NULL);
ALTER TABLE {DOCS} ALTER COLUMN vector SET STORAGE MAIN;
ALTER TABLE {DOCS} ADD COLUMN IF NOT EXISTS status text, ADD COLUMN IF NOT EXISTS year integer,
    ADD COLUMN IF NOT EXISTS platform text, ADD COLUMN IF NOT EXISTS source_kind text,
    ADD COLUMN IF NOT EXISTS sort_date date, ADD COLUMN IF NOT EXISTS cats text[],
    ADD COLUMN IF NOT EXISTS rank_norm double precision;
ALTER TABLE {DOCS} ALTER COLUMN techs SET STORAGE MAIN, ALTER COLUMN cats SET STORAGE MAIN;
"""
# Storage MAIN keeps a story's tsvector (2-4 kB) inline in the row instead of in the TOAST table:
# ranking reads every matching row's vector, and fetching it from TOAST doubled that cost.
# The tag arrays too: a row over 2 kB sends its largest EXTENDED values to TOAST first, so the
# facets fetched every matching row's techs/cats from TOAST (three buffer reads per row).
# kb_search_lexeme holds each lexeme's document frequency (for IDF) so a search looks it up
# instead of counting matches over the whole table.

# ts_rank's normalisation 1 divides by log2(1 + the vector's position count), recounting the
# positions on every call: most of its cost. Stored per document, ts_rank(..., 0) / rank_norm
# rounded to real is bit-for-bit ts_rank(..., 1).
NORM_SQL = (
    "ln((SELECT sum(coalesce(array_length(positions, 1), 1)) FROM unnest({v}))::float8 + 1)"
    " / ln(2::float8)"
)
# Documents indexed before the copied columns existed get them from the stories (orphans, whose
# story is gone, get an empty status and never match a published-only search).
BACKFILL_SQL = f"""
UPDATE {DOCS} d SET status = s.status, year = s.year, platform = s.platform,
    source_kind = s.source_kind, sort_date = s.date,
    cats = coalesce((SELECT array_agg(c.slug ORDER BY c.slug)
        FROM {{cat_links}} x JOIN {{cat_table}} c ON c.id = x.category_id
        WHERE x.story_id = d.story_id), '{{{{}}}}')
FROM {{story_table}} s WHERE s.id = d.story_id AND d.rank_norm IS NULL;
UPDATE {DOCS} SET status = coalesce(status, ''), cats = coalesce(cats, '{{{{}}}}'),
    rank_norm = {NORM_SQL.format(v="vector")} WHERE rank_norm IS NULL;
"""

VECTOR_SQL = (
    "setweight(to_tsvector('english', %s), 'A') || setweight(to_tsvector('english', %s), 'B')"
    " || setweight(to_tsvector('english', %s), 'C')"
)


def _exists() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [DOCS])
        return bool(cur.fetchone()[0])


def _schema_current() -> bool:
    """The lexeme table exists and the document table has its last change (inline tag arrays)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attname = 'cats' AND attstorage = 'm')",
            [LEXEMES, DOCS],
        )
        return bool(cur.fetchone()[0])


_SCHEMA_OK = False  # this process has seen the current schema (columns are never dropped)


def ensure_schema() -> None:
    global _SCHEMA_OK
    if _SCHEMA_OK and _exists():
        return
    if _schema_current():
        _SCHEMA_OK = True
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [DOCS])
        cur.execute(SCHEMA_SQL)
        cur.execute(
            BACKFILL_SQL.format(
                story_table=Story._meta.db_table,
                cat_links=Story.categories.through._meta.db_table,
                cat_table=Category._meta.db_table,
            )
        )


def index_exists() -> bool:
    return _exists()


# --- Writing -------------------------------------------------------------------------------------


def _doc_words(doc: StoryDoc) -> set[str]:
    return {w for w in words(f"{doc.head} {doc.symptom} {doc.body}") if w.isalpha() and len(w) > 2}


def _upsert(cur, docs: list[StoryDoc]) -> None:
    rows = [
        (
            d.pk,
            d.version,
            d.doc_hash,
            d.organisation,
            list(d.technologies),
            d.status,
            d.year,
            d.platform,
            d.source_kind,
            d.sort_date or None,
            list(d.categories),
            d.head,
            d.symptom,
            d.body,
        )
        for d in docs
    ]
    cols = "story_id, version, doc_hash, org, techs, status, year, platform, source_kind"
    cols += ", sort_date, cats"
    # The version guard keeps a slower writer holding an older read from overwriting a newer one.
    cur.executemany(
        f"INSERT INTO {DOCS} ({cols}, vector, rank_norm) "
        f"SELECT *, {NORM_SQL.format(v='v.vector')} FROM (SELECT %s::bigint, %s::int, %s, %s, "
        f"%s::text[], %s, %s::int, %s, %s, %s::date, %s::text[], {VECTOR_SQL} AS vector) v "
        "ON CONFLICT (story_id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in cols.split(", ")[1:])
        + f", vector = EXCLUDED.vector, rank_norm = EXCLUDED.rank_norm "
        f"WHERE {DOCS}.version <= EXCLUDED.version",
        rows,
    )
    vocab: dict[str, int] = defaultdict(int)
    for d in docs:
        for w in _doc_words(d):
            vocab[w] += 1
    if vocab:
        cur.execute(
            f"INSERT INTO {WORDS} (word, ndoc) SELECT * FROM unnest(%s::text[], %s::int[]) "
            f"ON CONFLICT (word) DO UPDATE SET ndoc = {WORDS}.ndoc + EXCLUDED.ndoc",
            [list(vocab), list(vocab.values())],
        )


def index_ids(ids) -> None:
    ids = sorted({int(i) for i in ids})
    if not ids:
        return
    ensure_schema()
    with transaction.atomic(), connection.cursor() as cur:
        docs = [story_doc(s) for s in stories_for_indexing(ids)]
        # Document frequencies follow the rows: subtract the old vectors' lexemes, add the new
        # ones (a row the version guard kept unchanged nets to zero). One writer at a time, so
        # concurrent writers never deadlock on lexeme rows.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LEXEMES])
        _count_lexemes(cur, ids, -1)
        _upsert(cur, docs)
        gone = sorted(set(ids) - {d.pk for d in docs})
        if gone:
            cur.execute(f"DELETE FROM {DOCS} WHERE story_id = ANY(%s)", [gone])
        _count_lexemes(cur, ids, +1)
    _DF_CACHE.clear()


def _count_lexemes(cur, ids: list[int], sign: int) -> None:
    cur.execute(
        f"INSERT INTO {LEXEMES} (lexeme, ndoc) SELECT w, %s * count(*) FROM {DOCS}, "
        "unnest(tsvector_to_array(vector)) AS w WHERE story_id = ANY(%s) GROUP BY w ORDER BY w "
        f"ON CONFLICT (lexeme) DO UPDATE SET ndoc = {LEXEMES}.ndoc + EXCLUDED.ndoc",
        [sign, ids],
    )


def rebuild(*, progress=None, batch_size: int = 500) -> int:
    """Everything in one transaction: readers see the old index until the new one commits."""
    ensure_schema()
    count = 0
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {DOCS} IN SHARE ROW EXCLUSIVE MODE")
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LEXEMES])
        cur.execute(f"DELETE FROM {DOCS}")
        cur.execute(f"DELETE FROM {WORDS}")
        cur.execute(f"DELETE FROM {LEXEMES}")
        batch: list[StoryDoc] = []
        for story in stories_for_indexing().order_by("pk").iterator(chunk_size=batch_size):
            batch.append(story_doc(story))
            if len(batch) >= batch_size:
                _upsert(cur, batch)
                count += len(batch)
                batch = []
                if progress:
                    progress(count)
        _upsert(cur, batch)
        count += len(batch)
        cur.execute(
            f"INSERT INTO {LEXEMES} (lexeme, ndoc) "
            f"SELECT word, ndoc FROM ts_stat('SELECT vector FROM {DOCS}')"
        )
    _DF_CACHE.clear()
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {DOCS}")
        cur.execute(f"ANALYZE {LEXEMES}")
    return count


def indexed_versions() -> dict[int, tuple[int, str]]:
    if not _exists():
        return {}
    with connection.cursor() as cur:
        cur.execute(f"SELECT story_id, version, doc_hash FROM {DOCS}")
        return {pk: (v, h) for pk, v, h in cur.fetchall()}


def index_size_bytes() -> int:
    if not _exists():
        return 0
    with connection.cursor() as cur:
        cur.execute("SELECT pg_total_relation_size(%s) + pg_total_relation_size(%s)", [DOCS, WORDS])
        return int(cur.fetchone()[0])


# --- Query building ----------------------------------------------------------------------------


def _groups(parsed: ParsedQuery):
    """[(label, tsquery SQL, params, tech slug or None, required)]"""
    groups = []
    for word in parsed.terms:
        groups.append((word, "plainto_tsquery('english', %s)", [word], None, False))
    for alias in parsed.aliases:
        label = " ".join(alias.words) or alias.label
        if alias.words:
            sql, params = "phraseto_tsquery('english', %s)", [" ".join(alias.words)]
        else:
            sql, params = "''::tsquery", []
        groups.append((label, sql, params, alias.technology, False))
    for phrase in parsed.phrases:
        text = " ".join(phrase)
        groups.append(('"' + text + '"', "phraseto_tsquery('english', %s)", [text], None, True))
    return groups


def _filters_sql(parsed: ParsedQuery, published_only: bool) -> tuple[list[str], list]:
    where, params = [], []
    if published_only:
        where.append("d.status = %s")
        params.append(Status.PUBLISHED)
    for key, values in parsed.filters.items():
        if key in ("category", "technology"):
            where.append(f"d.{'cats' if key == 'category' else 'techs'} && %s::text[]")
            params.append(list(values))
        elif key in ("platform", "source_kind"):
            where.append(f"d.{key} = ANY(%s)")
            params.append(values)
        elif key == "year":
            where.append("d.year = ANY(%s)")
            params.append([int(v) for v in values if v.isdigit() and len(v) <= 4])
        elif key == "organisation":
            where.append("d.org = ANY(%s)")
            params.append(values)
        elif key == "has_rules":
            flags = {v in ("true", "1", "yes") for v in values}
            if len(flags) == 1:
                links = StoryRule._meta.db_table
                exists = f"EXISTS (SELECT 1 FROM {links} r WHERE r.story_id = d.story_id)"
                where.append(exists if flags.pop() else f"NOT {exists}")
    return where, params


_DF_TTL = 30.0
_DF_CACHE: dict[tuple, tuple[float, int]] = {}


def clear_caches() -> None:
    _DF_CACHE.clear()


def _idfs(cur, groups, text_groups) -> list[float]:
    """IDF per group from the lexeme table: a group's document frequency is the smallest of its
    lexemes' (exact for one word, an upper bound for several), or at least the number of stories
    tagged with its technology. Cached briefly per process; this process's writes clear it."""
    if not groups:
        return []
    now = time.monotonic()
    keys = [("n",)] + [(sql, tuple(p), tech) for _, sql, p, tech, _ in text_groups]
    missing = [k for k in keys if now - _DF_CACHE.get(k, (-1e9, 0))[0] > _DF_TTL]
    if missing:
        parts, params = [], []
        for key in missing:
            if key == ("n",):
                parts.append(f"(SELECT count(*) FROM {DOCS})")
                continue
            _, p, tech = key
            part = (
                f"(SELECT coalesce(min(l.ndoc), 0) FROM {LEXEMES} l WHERE l.lexeme = ANY("
                f"tsvector_to_array(to_tsvector('english', %s))))"
            )
            params.append(" ".join(p))
            if tech:
                part = f"GREATEST({part}, (SELECT count(*) FROM {DOCS} WHERE techs @> ARRAY[%s]))"
                params.append(tech)
            parts.append(part)
        cur.execute(f"SELECT {', '.join(parts)}", params)
        for key, value in zip(missing, cur.fetchone(), strict=True):
            _DF_CACHE[key] = (now, int(value or 0))
        if len(_DF_CACHE) > 50_000:
            _DF_CACHE.clear()
    n = max(1, _DF_CACHE.get(("n",), (0, 1))[1])
    out = []
    for key in keys[1:]:
        df = _DF_CACHE.get(key, (0, 0))[1]
        out.append(math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else math.log(1 + n / 0.5))
    return out


def search(
    parsed: ParsedQuery, *, page: int, per_page: int, highlight: bool, published_only: bool
) -> SearchResults:
    if not _exists():
        return SearchResults([], 0, page, per_page, build_facets({}), None, parsed.text)
    ensure_schema()  # an index built by an older version gains the copied columns
    with connection.cursor() as cur:
        return _search(cur, parsed, page, per_page, highlight, published_only)


def _search(cur, parsed, page, per_page, highlight, published_only) -> SearchResults:
    text_groups = _groups(parsed)
    # Every tsquery is computed once (a one-row CTE), not once per candidate row.
    q_parts, q_params = ["1 AS one"], []
    groups = []
    for i, (label, sql, p, tech, required) in enumerate(text_groups):
        q_parts.append(f"{sql} AS q{i}")
        q_params.extend(p)
        groups.append((label, f"q.q{i}", [], tech, required))
    for j, words_ in enumerate(parsed.excluded):
        q_parts.append(f"phraseto_tsquery('english', %s) AS x{j}")
        q_params.append(" ".join(words_))
    q_sql = f"WITH q AS MATERIALIZED (SELECT {', '.join(q_parts)})"
    where, params = _filters_sql(parsed, published_only)
    for j in range(len(parsed.excluded)):
        where.append(f"NOT (d.vector @@ q.x{j})")
    # The page is a top-N sort (row_number() over the already ordered page, not a window over
    # every match, which sorted them all); tag facets unnest in the select list (a lateral
    # unnest per row cost twice as much) and the other facets and the total are one pass of
    # GROUPING SETS over the matches.
    # Each row's vector is tested once per group (t<i>) and ranked only for the groups it
    # matches; the score and the matched-groups array are computed from those columns.
    inner_cols: list[str] = []
    inner_params: list = []
    if groups:
        idfs = _idfs(cur, groups, text_groups)
        score_terms, flags, any_terms = [], [], []
        for i, ((_, sql, p, tech, required), idf) in enumerate(zip(groups, idfs, strict=True)):
            inner_cols.append(f"d.vector @@ {sql} AS t{i}")
            rank = (
                f"CASE WHEN t{i} THEN (ts_rank('{WEIGHTS}', vector, {sql}, 0) / rank_norm)::real"
                " ELSE 0 END"
            )
            flag = f"t{i}"
            if tech:
                inner_cols.append(f"d.techs @> ARRAY[%s]::text[] AS g{i}")
                inner_params.append(tech)
                rank += f" + CASE WHEN g{i} THEN {TECH_WEIGHT} ELSE 0 END"
                flag = f"(t{i} OR g{i})"
            score_terms.append(f"{idf:.6f} * ({rank})")
            flags.append(flag)
            matched = f"(d.vector @@ {sql}" + (" OR d.techs @> ARRAY[%s]::text[])" if tech else ")")
            mparams = [*p, *([tech] if tech else [])]
            if required:
                where.append(f"d.vector @@ {sql}")
                params.extend(p)
            else:
                any_terms.append((matched, mparams))
        if any_terms:
            where.append("(" + " OR ".join(t for t, _ in any_terms) + ")")
            for _, p in any_terms:
                params.extend(p)
        n = len(groups)
        count_sql = " + ".join(f"({f})::int" for f in flags)
        select = (
            f"({' + '.join(score_terms)}) * (1 + {COORD} * ({count_sql}) / {n}.0) AS score, "
            f"ARRAY[{', '.join(flags)}] AS matched"
        )
        order = "score DESC, story_id DESC"
    else:
        select = "0.0 AS score, ARRAY[]::boolean[] AS matched"
        order = "year DESC, sort_date DESC NULLS LAST, story_id DESC"
    where_sql = " AND ".join(where) or "TRUE"
    extra = "".join(", " + c for c in inner_cols)
    sql = f"""
        {q_sql}, m AS MATERIALIZED (
            SELECT story_id, year, platform, source_kind, sort_date, techs, cats, {select}
            FROM q, (
                SELECT d.story_id, d.year, d.platform, d.source_kind, d.sort_date, d.techs,
                       d.cats, d.vector, d.rank_norm{extra}
                FROM q CROSS JOIN {DOCS} d
                WHERE {where_sql}
                OFFSET 0
            ) x
        ),
        pg AS (
            SELECT story_id, score, matched, row_number() OVER () AS rn
            FROM (SELECT * FROM m ORDER BY {order} LIMIT %s OFFSET %s) p
        )
        SELECT 'hit', story_id::text, rn, score, matched FROM pg
        UNION ALL SELECT 'category', c, count(*), NULL, NULL
            FROM (SELECT unnest(cats) AS c FROM m) c GROUP BY c
        UNION ALL SELECT 'technology', t, count(*), NULL, NULL
            FROM (SELECT unnest(techs) AS t FROM m) t GROUP BY t
        UNION ALL SELECT CASE WHEN GROUPING(platform) = 0 THEN 'platform'
                WHEN GROUPING(year) = 0 THEN 'year'
                WHEN GROUPING(source_kind) = 0 THEN 'source_kind' ELSE 'total' END,
            coalesce(platform, year::text, source_kind), count(*), NULL, NULL
            FROM m GROUP BY GROUPING SETS ((platform), (year), (source_kind), ())
    """
    cur.execute(sql, [*q_params, *inner_params, *params, per_page, (page - 1) * per_page])
    ranked: list[tuple[int, int, float, list[bool]]] = []
    total = 0
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, value, n, score, matched in cur.fetchall():
        if kind == "hit":
            ranked.append((n, int(value), float(score), matched or []))
        elif kind == "total":
            total = n
        else:
            counts[kind][value] = n
    ranked.sort()
    stories = load_hits_stories([pk for _, pk, _, _ in ranked], published_only=published_only)
    hits = []
    for _, pk, score, matched in ranked:
        story = stories.get(pk)
        if story is None:
            continue
        labels = [g[0] for g, ok in zip(groups, matched, strict=False) if ok]
        hits.append(Hit(story=story, score=round(score, 4), matched_terms=labels))
    if highlight and groups and hits:
        _highlight(cur, hits, text_groups)
    suggestion = _suggest(cur, parsed)
    return SearchResults(hits, total, page, per_page, build_facets(counts), suggestion, parsed.text)


def _highlight(cur, hits: list[Hit], groups) -> None:
    query_sql = " || ".join(f"({sql})" for _, sql, p, _, _ in groups if p) or "''::tsquery"
    query_params = [x for _, _, p, _, _ in groups for x in p]
    opts = (
        f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=12, ShortWord=2, "
        "MaxFragments=1, FragmentDelimiter=' … '"
    )
    fields = ("title", "symptom", "summary")
    values, params = [], []
    for i, hit in enumerate(hits):
        for field in fields:
            raw = hit.story.title if field == "title" else plain_text(getattr(hit.story, field))
            values.append("(%s, %s, %s)")
            params.extend([i, field, raw.replace(START, "").replace(STOP, "")[:6000]])
    cur.execute(
        f"WITH q AS (SELECT {query_sql} AS q) "
        f"SELECT v.i, v.f, ts_headline('english', v.t, q.q, %s) "
        f"FROM (VALUES {', '.join(values)}) AS v(i, f, t), q",
        [*query_params, opts, *params],
    )
    for i, field, text in cur.fetchall():
        if START in text:
            html = escape(text).replace(START, "<mark>").replace(STOP, "</mark>")
            hits[i].highlights[field] = html


def _suggest(cur, parsed: ParsedQuery) -> str | None:
    candidates = [w for w in parsed.terms if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return None
    # A range, not `word = ANY(...)`: pg_trgm's GIN opclass also serves `=`, and the planner
    # picked it over the primary key (12 ms instead of 0.2 ms); it cannot serve a range.
    cur.execute(
        f"SELECT w FROM unnest(%s::text[]) AS w "
        f"WHERE EXISTS (SELECT 1 FROM {WORDS} k WHERE k.word >= w AND k.word <= w)",
        [candidates],
    )
    known = {w for (w,) in cur.fetchall()}
    text, changed = parsed.text, False
    for word in candidates:
        if word in known:
            continue
        cur.execute(
            f"SELECT word FROM {WORDS} WHERE word %% %s "
            "ORDER BY similarity(word, %s) DESC, ndoc DESC LIMIT 10",
            [word, word],
        )
        best = [w for (w,) in cur.fetchall() if distance(word, w) <= 2]
        if best:
            text = replace_word(ParsedQuery(text=text), word, best[0])
            changed = True
    return text if changed else None


# --- Helpers for more-like-this and match_text ---------------------------------------------------


def term_document_frequency(word: str) -> int:
    if not _exists():
        return 0
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM {DOCS} WHERE vector @@ plainto_tsquery('english', %s)", [word]
        )
        return int(cur.fetchone()[0])


def more_like_this_terms(story, wanted_count: int = 12) -> list[str]:
    fresh = stories_for_indexing([story.pk]).first()
    if fresh is None or not _exists():
        return []
    doc = story_doc(fresh)
    weights: dict[str, int] = defaultdict(int)
    for text, w in ((doc.head, 3), (doc.symptom, 2), (doc.body, 1)):
        for word in words(text):
            if word.isalpha() and len(word) > 2:
                weights[word] += w
    top = sorted(weights, key=lambda w: -weights[w])[:60]
    if not top:
        return []
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT w, plainto_tsquery('english', w)::text, "
            f"(SELECT count(*) FROM {DOCS} WHERE vector @@ plainto_tsquery('english', w)), "
            f"(SELECT count(*) FROM {DOCS}) FROM unnest(%s::text[]) AS w",
            [top],
        )
        rows = cur.fetchall()
    seen: set[str] = set()
    scored = []
    for word, lexeme, df, n in rows:
        if df <= 1 or not lexeme or lexeme in seen:
            continue
        seen.add(lexeme)
        scored.append((weights[word] * math.log(1 + (n - df + 0.5) / (df + 0.5)), word))
    scored.sort(reverse=True)
    return [w for _, w in scored[:wanted_count]]


__all__ = ["AliasGroup"]
