"""The PostgreSQL backend: weighted tsvectors, a per-word posting table, ts_headline, pg_trgm.

Schema (owned by this module, created and upgraded idempotently by ensure_schema(), which
rebuild, the indexing hooks and searches call; nothing here is a Django model, so it never needs
a migration and SQLite databases never see it):

    kb_search_document(story_id PK, version, doc_hash, org, techs text[], status, year,
                       platform, source_kind, sort_date, cats text[], provenance)
        One narrow row per story: what filters and facets read. The values are copied from the
        story (as the Whoosh index does), so a search never joins the story tables.
    kb_search_vector(story_id PK, rank_norm, vector)
        vector = setweight(head, 'A') || setweight(symptom, 'B') || setweight(body, 'C'), with
        a GIN index, for phrases, words that parse into several lexemes and exclusions.
        rank_norm is ts_rank's length normalisation (log2(1 + positions)), stored once.
    kb_search_posting(lexeme, story_id, rank)   PK (lexeme, story_id) INCLUDE (rank)
        One row per lexeme of each vector: rank is ts_rank(weights, vector, lexeme) / rank_norm,
        the very value a one-word group scores, computed when the story is indexed.
    kb_search_lexeme(lexeme PK, ndoc)           document frequencies, for IDF
    kb_search_word(word PK, ndoc)               surface words, trigram GIN index, "did you mean"
    kb_search_facet(facet, value PK, n)         facet counts over all published stories, and
                                                ('total', '') their number: kept by every write

Why the posting table: a query of common words matches nearly every story, and ranking it
from the vectors read and tested every matching row's 3 kB tsvector once per word (45 ms at
10,000 stories). Summing the words' postings is an index-only scan of small tuples (FTS5 and
Lucene work the same way); vectors are read only for the groups that need positions.

No foreign key to incidents_story: Django's test flush TRUNCATEs incidents_story, which a
referencing table would block. Deleted stories are removed by the on-commit hook, searches join
incidents_story for the page's hits (so a leftover row is never shown), and --check reports
orphans.

Why stored facet counts: a query of common words matches nearly every story, and counting the
facets over all of its matches (unnesting every match's categories and technologies) was a
third of its time. When the matches are more than half of the published stories, the counts are
the stored ones minus those of the published stories that did not match (`_execute`): the same
numbers from a few hundred rows instead of ten thousand. Each write updates the stored counts in
its own transaction (under the writers' lock), so every app server reads the same numbers.

Queries are built from the parsed query: each group is websearch_to_tsquery of one word or one
quoted phrase that our tokenizer produced (it never passes quotes, a leading '-' or any other
operator through, and websearch_to_tsquery raises no syntax error on any input), and scores are
sum(idf(group) * ts_rank(weights, vector, group) / rank_norm) * (1 + share of groups matched).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from html import escape

from django.db import OperationalError, connection, transaction

from incidents.models import Status, Story
from incidents.search import fields as search_fields
from incidents.search.documents import Hit, StoryDoc, stories_for_indexing, story_doc
from incidents.search.engine import (
    COORD,
    HIGHLIGHT_FIELDS,
    QueryPlan,
    Ranked,
    highlight_text,
    idf,
)
from incidents.search.query import words

DOCS = "kb_search_document"
VECTORS = "kb_search_vector"
POSTINGS = "kb_search_posting"
WORDS = "kb_search_word"
LEXEMES = "kb_search_lexeme"
FACETS = "kb_search_facet"
TABLES = (DOCS, VECTORS, POSTINGS, LEXEMES, WORDS, FACETS)
TOTAL = "total"  # the facet name of the stored published-story count (value '')
# Facet counts from the stored ones minus the non-matches' when the matches are most of the
# published stories; False counts over the matches always (tests compare the two).
USE_STORED_FACETS = True
WEIGHTS = search_fields.PG_RANK_WEIGHTS  # ts_rank's {D, C, B, A}: the text groups' pg_rank
TECH_WEIGHT = 0.5  # ts_rank units an alias group scores when the story is tagged
# Equal scores: the record resting on more of its source first (full, partial, listing).
PROVENANCE_ORDER = (
    "CASE provenance WHEN 'full' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END DESC, story_id DESC"
)
START, STOP = "\x01", "\x02"

SCHEMA_SQL = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE IF NOT EXISTS {DOCS} (
    story_id bigint PRIMARY KEY,
    version integer NOT NULL,
    doc_hash varchar(64) NOT NULL
);
ALTER TABLE {DOCS} ADD COLUMN IF NOT EXISTS status text, ADD COLUMN IF NOT EXISTS sort_date date;
CREATE TABLE IF NOT EXISTS {VECTORS} (
    story_id bigint PRIMARY KEY,
    rank_norm double precision NOT NULL,
    vector tsvector NOT NULL
);
ALTER TABLE {VECTORS} ALTER COLUMN vector SET STORAGE MAIN;
CREATE INDEX IF NOT EXISTS {VECTORS}_vector ON {VECTORS} USING gin (vector);
CREATE TABLE IF NOT EXISTS {POSTINGS} (
    lexeme text NOT NULL,
    story_id bigint NOT NULL,
    rank real NOT NULL,
    PRIMARY KEY (lexeme, story_id) INCLUDE (rank)
);
CREATE TABLE IF NOT EXISTS {WORDS} (word text PRIMARY KEY, ndoc integer NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS {WORDS}_trgm ON {WORDS} USING gin (word gin_trgm_ops);
CREATE TABLE IF NOT EXISTS {LEXEMES} (lexeme text PRIMARY KEY, ndoc integer NOT NULL);
CREATE TABLE IF NOT EXISTS {FACETS} (
    facet text NOT NULL,
    value text NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (facet, value)
);
"""
# Storage MAIN keeps a story's tsvector (2-4 kB) inline in its row instead of in the TOAST table:
# a phrase is matched by rechecking every candidate's vector, and fetching it from TOAST doubled
# that cost. The vectors have their own table so that the document rows stay narrow (150 bytes):
# filters and facets read every matching story's row.

# ts_rank's normalisation 1 divides by log2(1 + the vector's position count), recounting the
# positions on every call: most of its cost. Stored per document, ts_rank(..., 0) / rank_norm
# rounded to real is bit-for-bit ts_rank(..., 1). An empty vector (a story with nothing to
# index, such as a reader's suggestion) has no positions: the sum is NULL and the row would be
# refused, so it is stored as 1 (an empty vector matches nothing, its norm is never used).
NORM_SQL = (
    "coalesce(ln((SELECT sum(coalesce(array_length(positions, 1), 1)) FROM unnest({v}))::float8"
    " + 1) / ln(2::float8), 1)"
)
# A lexeme as a one-operand tsquery: quoted, with quotes and backslashes doubled (the tsquery
# input syntax), so the lexeme is taken verbatim and never parsed as an operator.
LEXEME_TSQUERY = r"(E'''' || replace(replace(u.lexeme, E'\\', E'\\\\'), '''', '''''') || E'''')"


def _postings_sql(postings: str = POSTINGS, vectors: str = VECTORS) -> str:
    return (
        f"INSERT INTO {postings} (lexeme, story_id, rank) SELECT u.lexeme, v.story_id, "
        f"(ts_rank('{WEIGHTS}', v.vector, {LEXEME_TSQUERY}::tsquery, 0) / v.rank_norm)::real "
        f"FROM {vectors} v, unnest(v.vector) u"
    )


VECTOR_SQL = (
    "setweight(to_tsvector('english', %s), 'A') || setweight(to_tsvector('english', %s), 'B')"
    " || setweight(to_tsvector('english', %s), 'C')"
)

# --- Upgrading an index written by an earlier version --------------------------------------------
# Before the posting table, kb_search_document held the vector and rank_norm itself; before that,
# it lacked the copied filter columns too. The upgrade fills the copied columns from the stories
# (orphans, whose story is gone, get an empty status and never match a published-only search),
# moves the vectors to their table, derives postings and lexeme counts, and drops the old
# columns: searches keep their results and no rebuild is needed.
BACKFILL_SQL = f"""
ALTER TABLE {DOCS} ADD COLUMN IF NOT EXISTS rank_norm double precision;
UPDATE {DOCS} d SET status = s.status, sort_date = coalesce(s.published_date, s.incident_date)
FROM {{story_table}} s WHERE s.id = d.story_id AND d.status IS NULL;
UPDATE {DOCS} SET status = coalesce(status, ''),
    rank_norm = coalesce(rank_norm, {NORM_SQL.format(v="vector")});
INSERT INTO {VECTORS} (story_id, rank_norm, vector) SELECT story_id, rank_norm, vector FROM {DOCS}
    ON CONFLICT (story_id) DO NOTHING;
ALTER TABLE {DOCS} DROP COLUMN vector, DROP COLUMN rank_norm;
DELETE FROM {LEXEMES};
INSERT INTO {LEXEMES} (lexeme, ndoc) SELECT word, ndoc FROM ts_stat('SELECT vector FROM {VECTORS}');
"""


def _exists() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [DOCS])
        return bool(cur.fetchone()[0])


def _has_vector_column(cur) -> bool:
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attname = 'vector' AND NOT attisdropped)",
        [DOCS],
    )
    return bool(cur.fetchone()[0])


def _missing_columns(cur) -> list[search_fields.SearchField | search_fields.SortKey]:
    """Declared fields and sort keys (incidents.search.fields) whose column the document table
    lacks."""
    cur.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND NOT attisdropped",
        [DOCS],
    )
    have = {name for (name,) in cur.fetchall()}
    return [f for f in search_fields.stored() if column(f) not in have]


def _schema_current() -> bool:
    """The posting and lexeme tables exist, the document rows no longer hold the vector and
    have a column for every declared field and sort key."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL "
            "AND to_regclass(%s) IS NOT NULL",
            [POSTINGS, LEXEMES, FACETS],
        )
        return bool(cur.fetchone()[0]) and not _has_vector_column(cur) and not _missing_columns(cur)


# The declared fields for which this process has seen the current schema (a rebuild swaps in
# the same one); False before.
_SCHEMA_OK: tuple | bool = False


def ensure_schema() -> None:
    global _SCHEMA_OK
    declared = search_fields.all_fields()
    if _SCHEMA_OK is declared and _exists():
        return
    if _schema_current():
        _SCHEMA_OK = declared
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [DOCS])
        cur.execute("SELECT to_regclass(%s) IS NULL", [FACETS])
        no_facets = bool(cur.fetchone()[0])
        cur.execute(SCHEMA_SQL)
        if _has_vector_column(cur):
            cur.execute(BACKFILL_SQL.format(story_table=Story._meta.db_table))
            cur.execute(f"DELETE FROM {POSTINGS}")
            cur.execute(_postings_sql() + " ORDER BY 1, 2")
            # Dropping a column leaves its values in the rows: rewrite them narrow.
            cur.execute(f"CLUSTER {DOCS} USING {DOCS}_pkey")
        if _ensure_columns(cur) or no_facets:  # a new facet, or an index from before the table
            cur.execute(f"DELETE FROM {FACETS}")
            cur.execute(_facet_counts_insert_sql(FACETS, DOCS))
    _DF_CACHE.clear()


def _ensure_columns(cur) -> bool:
    """Add the columns of fields and sort keys declared since the index was written, filled
    from the stories (an orphan row, whose story is gone, keeps the empty value). True when it
    added any."""
    missing = _missing_columns(cur)
    if not missing:
        return False
    cur.execute(
        f"ALTER TABLE {DOCS} "
        + ", ".join(
            f"ADD COLUMN {column(f)} {COLUMN_TYPES[f.kind]} NOT NULL DEFAULT {EMPTY[f.kind]}"
            for f in missing
        )
    )
    cur.execute(f"SELECT story_id FROM {DOCS} ORDER BY story_id")
    ids = [pk for (pk,) in cur.fetchall()]
    names = [column(f) for f in missing]
    row = "(%s::bigint, " + ", ".join(f"%s::{COLUMN_TYPES[f.kind]}" for f in missing) + ")"
    for start in range(0, len(ids), 500):
        docs = [story_doc(x) for x in stories_for_indexing(ids[start : start + 500])]
        if not docs:
            continue
        cur.execute(
            f"UPDATE {DOCS} d SET {', '.join(f'{c} = v.{c}' for c in names)} "
            f"FROM (VALUES {', '.join([row] * len(docs))}) v(story_id, {', '.join(names)}) "
            "WHERE d.story_id = v.story_id",
            [x for d in docs for x in (d.pk, *(_stored(f, d.value(f.name)) for f in missing))],
        )
    return True


def index_exists() -> bool:
    return _exists()


# --- Writing -------------------------------------------------------------------------------------

# Earlier layouts named these columns so; every other field's column is its name.
LEGACY_COLUMNS = {"category": "cats", "technology": "techs", "organisation": "org"}
COLUMN_TYPES = {
    search_fields.Kind.KEYWORD: "text",
    search_fields.Kind.TAGS: "text[]",
    search_fields.Kind.INTEGER: "integer",
    search_fields.Kind.BOOLEAN: "boolean",
}

EMPTY = {  # a column's default: the field's empty value
    search_fields.Kind.KEYWORD: "''",
    search_fields.Kind.TAGS: "'{}'",
    search_fields.Kind.INTEGER: "0",
    search_fields.Kind.BOOLEAN: "false",
}


def column(f: search_fields.SearchField | search_fields.SortKey) -> str:
    return LEGACY_COLUMNS.get(f.name, f.name)


def _stored(f: search_fields.SearchField | search_fields.SortKey, value: object) -> object:
    """A document value as its column holds it."""
    return list(value or ()) if f.kind is search_fields.Kind.TAGS else value


def _doc_columns() -> list[tuple[str, str]]:
    core = [("story_id", "bigint"), ("version", "int"), ("doc_hash", "varchar")]
    core += [("status", "text"), ("sort_date", "date")]
    return core + [(column(f), COLUMN_TYPES[f.kind]) for f in search_fields.stored()]


def _doc_row(d: StoryDoc) -> tuple:
    core = (d.pk, d.version, d.doc_hash, d.status, d.sort_date or None)
    return core + tuple(_stored(f, d.value(f.name)) for f in search_fields.stored())


def _doc_words(doc: StoryDoc) -> set[str]:
    return {w for w in words(f"{doc.head} {doc.symptom} {doc.body}") if w.isalpha() and len(w) > 2}


def _upsert_documents(cur, docs: list[StoryDoc], table: str = DOCS) -> set[int]:
    """Write the document rows; return the ids written. The version guard keeps a slower writer
    holding an older read from overwriting a newer row (its vector and postings stay too)."""
    if not docs:
        return set()
    doc_columns = _doc_columns()
    names = [name for name, _ in doc_columns]
    row = "(" + ", ".join(f"%s::{kind}" for _, kind in doc_columns) + ")"
    upsert = (
        " ON CONFLICT (story_id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in names[1:])
        + f" WHERE {table}.version <= EXCLUDED.version"
        if table == DOCS
        else ""  # a table being rebuilt: every story once, and no key to conflict on yet
    )
    cur.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([row] * len(docs))}"
        f"{upsert} RETURNING story_id",
        [value for d in docs for value in _doc_row(d)],
    )
    return {pk for (pk,) in cur.fetchall()}


def _insert_vectors(cur, docs: list[StoryDoc], table: str = VECTORS) -> None:
    if not docs:
        return
    cur.executemany(
        f"INSERT INTO {table} (story_id, rank_norm, vector) "
        f"SELECT %s, {NORM_SQL.format(v='v.vector')}, v.vector "
        f"FROM (SELECT {VECTOR_SQL} AS vector) v",
        [(d.pk, d.head, d.symptom, d.body) for d in docs],
    )


def _count_words(docs: list[StoryDoc], vocab: dict[str, int] | None = None) -> dict[str, int]:
    vocab = defaultdict(int) if vocab is None else vocab
    for d in docs:
        for w in _doc_words(d):
            vocab[w] += 1
    return vocab


def _insert_words(cur, vocab: dict[str, int], table: str = WORDS) -> None:
    if vocab:
        cur.execute(
            f"INSERT INTO {table} (word, ndoc) SELECT * FROM unnest(%s::text[], %s::int[]) "
            f"ON CONFLICT (word) DO UPDATE SET ndoc = {table}.ndoc + EXCLUDED.ndoc",
            [list(vocab), list(vocab.values())],
        )


def index_ids(ids) -> None:
    ids = sorted({int(i) for i in ids})
    if not ids:
        return
    ensure_schema()
    with transaction.atomic(), connection.cursor() as cur:
        docs = [story_doc(s) for s in stories_for_indexing(ids)]
        # One writer at a time (the rebuild takes the same lock first), so concurrent writers
        # never deadlock on posting or lexeme rows. Document frequencies follow the vectors:
        # the replaced ones' lexemes are subtracted, the new ones' added.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LEXEMES])
        # The stored facet counts: these stories' rows taken out as they were, added back as
        # they are once written (a row the version guard keeps adds back what it took).
        _count_facets(cur, ids, -1)
        written = _upsert_documents(cur, docs)
        gone = sorted(set(ids) - {d.pk for d in docs})
        if gone:
            cur.execute(f"DELETE FROM {DOCS} WHERE story_id = ANY(%s)", [gone])
        replaced = sorted(written | set(gone))
        _count_lexemes(cur, replaced, -1)
        # Postings are exactly the lexemes of the story's vector, so they are found by key.
        cur.execute(
            f"DELETE FROM {POSTINGS} p USING (SELECT v.story_id, unnest(tsvector_to_array("
            f"v.vector)) AS lexeme FROM {VECTORS} v WHERE v.story_id = ANY(%s)) o "
            "WHERE p.lexeme = o.lexeme AND p.story_id = o.story_id",
            [replaced],
        )
        cur.execute(f"DELETE FROM {VECTORS} WHERE story_id = ANY(%s)", [replaced])
        fresh = [d for d in docs if d.pk in written]
        _insert_vectors(cur, fresh)
        if fresh:
            cur.execute(_postings_sql() + " WHERE v.story_id = ANY(%s)", [[d.pk for d in fresh]])
        _count_lexemes(cur, sorted(written), +1)
        _insert_words(cur, _count_words(fresh))
        _count_facets(cur, ids, +1)
    _DF_CACHE.clear()


def _facet_pairs_sql() -> str:
    """(facet, value) for each facet value of each published row of `d`, and (TOTAL, '') once
    per row: the values as the facet counts of a search name them (text)."""
    parts = []
    for f in search_fields.facets():
        value = f"unnest(d.{column(f)})" if f.kind is search_fields.Kind.TAGS else f"d.{column(f)}"
        parts.append(f"SELECT '{f.name}' AS facet, ({value})::text AS value FROM d")
    parts.append(f"SELECT '{TOTAL}', '' FROM d")
    return " UNION ALL ".join(parts)


def _facet_counts_select(docs: str, where: str = "TRUE", n: str = "count(*)") -> str:
    """(facet, value, n) over the published rows of `docs` that pass `where`."""
    return (
        f"WITH d AS (SELECT * FROM {docs} d WHERE d.status = '{Status.PUBLISHED}' AND {where}) "
        f"SELECT facet, value, {n} FROM ({_facet_pairs_sql()}) p "
        "GROUP BY facet, value ORDER BY facet, value"
    )


def _facet_counts_insert_sql(table: str, docs: str) -> str:
    """Fill `table` with the facet counts of the published rows of `docs`."""
    return f"INSERT INTO {table} (facet, value, n) {_facet_counts_select(docs)}"


def _count_facets(cur, ids: list[int], sign: int) -> None:
    """Add (sign +1) or take out (-1) the facet values of these stories' published rows."""
    cur.execute(
        f"INSERT INTO {FACETS} (facet, value, n) "
        f"{_facet_counts_select(DOCS, 'd.story_id = ANY(%s)', '%s * count(*)')} "
        f"ON CONFLICT (facet, value) DO UPDATE SET n = {FACETS}.n + EXCLUDED.n",
        [ids, sign],
    )
    if sign > 0:
        cur.execute(f"DELETE FROM {FACETS} WHERE n = 0")


def _count_lexemes(cur, ids: list[int], sign: int) -> None:
    if not ids:
        return
    cur.execute(
        f"INSERT INTO {LEXEMES} (lexeme, ndoc) SELECT w, %s * count(*) FROM {VECTORS}, "
        "unnest(tsvector_to_array(vector)) AS w WHERE story_id = ANY(%s) GROUP BY w ORDER BY w "
        f"ON CONFLICT (lexeme) DO UPDATE SET ndoc = {LEXEMES}.ndoc + EXCLUDED.ndoc",
        [sign, ids],
    )


BUILD = "_build"  # suffix of the tables a rebuild fills before they replace the live ones


def _build_tables_sql() -> str:
    """The live tables' twins without keys or indexes: loading first and indexing after gives
    compact B-trees (half the size of ones grown row by row) and no dead rows."""
    return "".join(
        f"DROP TABLE IF EXISTS {t}{BUILD}; CREATE TABLE {t}{BUILD} "
        f"(LIKE {t} INCLUDING DEFAULTS INCLUDING STORAGE);"
        for t in TABLES
    )


INDEX_BUILD_SQL = f"""
ALTER TABLE {DOCS}{BUILD} ADD CONSTRAINT {DOCS}{BUILD}_pkey PRIMARY KEY (story_id);
ALTER TABLE {VECTORS}{BUILD} ADD CONSTRAINT {VECTORS}{BUILD}_pkey PRIMARY KEY (story_id);
CREATE INDEX {VECTORS}{BUILD}_vector ON {VECTORS}{BUILD} USING gin (vector);
ALTER TABLE {POSTINGS}{BUILD} ADD CONSTRAINT {POSTINGS}{BUILD}_pkey
    PRIMARY KEY (lexeme, story_id) INCLUDE (rank);
ALTER TABLE {LEXEMES}{BUILD} ADD CONSTRAINT {LEXEMES}{BUILD}_pkey PRIMARY KEY (lexeme);
ALTER TABLE {WORDS}{BUILD} ADD CONSTRAINT {WORDS}{BUILD}_pkey PRIMARY KEY (word);
CREATE INDEX {WORDS}{BUILD}_trgm ON {WORDS}{BUILD} USING gin (word gin_trgm_ops);
ALTER TABLE {FACETS}{BUILD} ADD CONSTRAINT {FACETS}{BUILD}_pkey PRIMARY KEY (facet, value);
"""
SWAP_SQL = (
    f"DROP TABLE {', '.join(TABLES)};"
    + "".join(
        f"ALTER TABLE {t}{BUILD} RENAME TO {t}; "
        f"ALTER TABLE {t} RENAME CONSTRAINT {t}{BUILD}_pkey TO {t}_pkey;"
        for t in TABLES
    )
    + f"ALTER INDEX {VECTORS}{BUILD}_vector RENAME TO {VECTORS}_vector;"
    + f"ALTER INDEX {WORDS}{BUILD}_trgm RENAME TO {WORDS}_trgm;"
)
SWAP_LOCK_TIMEOUT = "200ms"
SWAP_ATTEMPTS = 50


def _lock_live_tables(cur) -> None:
    """Lock the live tables for the swap without ever deadlocking a search.

    A search statement locks the tables it reads in its own order, so one can hold a table this
    lock wants while it waits for one this lock already holds. Each attempt gives up after a
    short timeout and a savepoint rollback releases what it took: the search goes on, at worst
    delayed by the timeout, and the swap tries again.
    """
    for attempt in range(SWAP_ATTEMPTS):
        try:
            with transaction.atomic():
                cur.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                cur.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")
            cur.execute("SET LOCAL lock_timeout = 0")
            return
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            time.sleep(min(0.02 * (attempt + 1), 0.5))
    raise OperationalError(
        f"rebuild: could not lock the search tables for the swap in {SWAP_ATTEMPTS} attempts; "
        "the old index is unchanged"
    )


def rebuild(*, progress=None, batch_size: int = 500) -> int:
    """Fill new tables, then swap them in, all in one transaction: readers see the old index
    until the new one commits (the swap itself holds them for milliseconds), and a rebuild that
    fails or is killed leaves the old index as it was."""
    ensure_schema()
    count = 0
    vocab: dict[str, int] = defaultdict(int)
    with transaction.atomic(), connection.cursor() as cur:
        # Writers wait for the swap (index_ids takes the same lock), then write the new tables.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LEXEMES])
        cur.execute(_build_tables_sql())
        batch: list[StoryDoc] = []
        for story in stories_for_indexing().order_by("pk").iterator(chunk_size=batch_size):
            batch.append(story_doc(story))
            if len(batch) >= batch_size:
                _write_batch(cur, batch, vocab)
                count += len(batch)
                batch = []
                if progress:
                    progress(count)
        _write_batch(cur, batch, vocab)
        count += len(batch)
        # In lexeme order, so each word's postings sit together on disk.
        cur.execute(_postings_sql(POSTINGS + BUILD, VECTORS + BUILD) + " ORDER BY 1, 2")
        cur.execute(
            f"INSERT INTO {LEXEMES}{BUILD} (lexeme, ndoc) "
            f"SELECT word, ndoc FROM ts_stat('SELECT vector FROM {VECTORS}{BUILD}')"
        )
        cur.execute(
            f"INSERT INTO {WORDS}{BUILD} (word, ndoc) SELECT * FROM unnest(%s::text[], %s::int[])",
            [list(vocab), list(vocab.values())],
        )
        cur.execute(_facet_counts_insert_sql(FACETS + BUILD, DOCS + BUILD))
        cur.execute(INDEX_BUILD_SQL)
        _lock_live_tables(cur)
        cur.execute(SWAP_SQL)
    _DF_CACHE.clear()
    with connection.cursor() as cur:
        # VACUUM sets the visibility map that lets postings be read by index-only scans; it
        # cannot run inside a transaction, where ANALYZE alone must do.
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        for table in TABLES:
            cur.execute(f"{verb} {table}")
    return count


def _write_batch(cur, batch: list[StoryDoc], vocab: dict[str, int]) -> None:
    _upsert_documents(cur, batch, DOCS + BUILD)
    _insert_vectors(cur, batch, VECTORS + BUILD)
    _count_words(batch, vocab)


def indexed_versions() -> dict[int, tuple[int, str]]:
    if not _exists():
        return {}
    with connection.cursor() as cur:
        cur.execute(f"SELECT story_id, version, doc_hash FROM {DOCS}")
        return {pk: (v, h) for pk, v, h in cur.fetchall()}


def index_size_bytes() -> int:
    if not _exists():
        return 0
    ensure_schema()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT " + " + ".join(["pg_total_relation_size(%s)"] * len(TABLES)), list(TABLES)
        )
        return int(cur.fetchone()[0])


# --- Query building ----------------------------------------------------------------------------


WEBSEARCH = "websearch_to_tsquery('english', %s)"


def _quoted(words_: tuple[str, ...] | list[str]) -> str:
    """A phrase for websearch_to_tsquery: the tokenizer's words never contain a quote."""
    return '"' + " ".join(words_) + '"'


def _groups(plan: QueryPlan):
    """[(label, tsquery SQL, params, tech slug or None, required)] for the plan's groups."""
    groups = []
    for g in plan.groups:
        if len(g.forms) == 1 and len(g.forms[0]) == 1 and not (g.technology or g.required):
            sql, params = WEBSEARCH, [g.forms[0][0]]  # a word as typed
        elif g.forms:  # any form matches: "a b" or "c" (websearch_to_tsquery's OR)
            sql, params = WEBSEARCH, [" or ".join(_quoted(f) for f in g.forms)]
        else:
            sql, params = "''::tsquery", []
        groups.append((g.label, sql, params, g.technology, g.required))
    return groups


@dataclass(frozen=True)
class _Group:
    label: str
    sql: str  # the group's tsquery
    params: list
    tech: str | None  # an alias group also matches stories tagged with this technology
    required: bool
    idf: float
    nodes: int  # lexemes in the tsquery: 0 for stop words only
    # The lexemes when the tsquery is one lexeme or several joined by OR: ranked from the
    # postings (see _scores_sql); empty when it needs the vectors (phrases, words that parse
    # into several lexemes in a row).
    lexemes: tuple[str, ...]
    df: int = 0  # the document frequency its IDF comes from


def _filters_sql(
    filters: dict[str, list[str]], published_only: bool, ids: str | None = None
) -> tuple[list[str], list]:
    """WHERE clauses for the filters (values of one key OR-ed, keys AND-ed); the values are
    canonical (fields.SearchField.parse). With `ids` (a story id column, no document row `d`
    at hand), "published only" leaves out the ids of the stories that are not."""
    where, params = [], []
    if published_only and ids:
        where.append(f"{ids} NOT IN (SELECT story_id FROM {DOCS} WHERE status IS DISTINCT FROM %s)")
        params.append(Status.PUBLISHED)
    elif published_only:
        where.append("d.status = %s")
        params.append(Status.PUBLISHED)
    for key, values in filters.items():
        f = search_fields.get(key)
        kind = COLUMN_TYPES[f.kind]
        if f.kind is search_fields.Kind.TAGS:
            where.append(f"d.{column(f)} && %s::{kind}")
            params.append(list(values))
        else:
            where.append(f"d.{column(f)} = ANY(%s::{kind}[])")
            params.append([_sql_value(f, v) for v in values])
    return where, params


def _sql_value(f: search_fields.SearchField, value: str) -> object:
    if f.kind is search_fields.Kind.INTEGER:
        return int(value)
    if f.kind is search_fields.Kind.BOOLEAN:
        return value == "true"
    return value


def _facets_sql(source: str = "m", where: str = "TRUE", prefix: str = "") -> tuple[str, list[str]]:
    """The facet counts over the rows of `source` that pass `where` (rows named prefix + facet,
    and prefix + TOTAL), and the columns `source` needs for them: tag facets unnest in the
    select list (a lateral unnest per row cost twice as much); the other facets and the total
    are one pass of GROUPING SETS."""
    facets = search_fields.facets()
    tags = [f for f in facets if f.kind is search_fields.Kind.TAGS]
    scalars = [f for f in facets if f.kind is not search_fields.Kind.TAGS]
    parts = [
        f"SELECT '{prefix}{f.name}', x, count(*), NULL, NULL "
        f"FROM (SELECT unnest({column(f)}) AS x FROM {source} WHERE {where}) x GROUP BY x"
        for f in tags
    ]
    which = " ".join(f"WHEN GROUPING({column(f)}) = 0 THEN '{prefix}{f.name}'" for f in scalars)
    value = ", ".join(f"{column(f)}::text" for f in scalars) or "NULL"
    sets = "".join(f"({column(f)}), " for f in scalars)
    parts.append(
        f"SELECT CASE {which} ELSE '{prefix}{TOTAL}' END, coalesce({value}), count(*), NULL, "
        f"NULL FROM {source} WHERE {where} GROUP BY GROUPING SETS ({sets}())"
        if scalars
        else f"SELECT '{prefix}{TOTAL}', NULL, count(*), NULL, NULL FROM {source} WHERE {where}"
    )
    return " UNION ALL ".join(parts), [column(f) for f in facets]


_DF_TTL = 30.0
_DF_CACHE_MAX = 50_000
_DF_CACHE: dict[tuple, tuple] = {}  # ("n",) -> (t, count); group key -> (t, df, nodes, lexemes)


def clear_caches() -> None:
    _DF_CACHE.clear()


def _resolve(cur, text_groups) -> list[_Group]:
    """Each group's IDF and lexemes, looked up in one query and cached briefly per process (this
    process's writes clear the cache). A group's document frequency is the smallest of its
    lexemes' (exact for one word, an upper bound for several), or at least the number of
    stories tagged with its technology."""
    if not text_groups:
        return []
    now = time.monotonic()
    keys = [("n",)] + [(sql, tuple(p), tech) for _, sql, p, tech, _ in text_groups]
    found = {k: v for k in keys if now - (v := _DF_CACHE.get(k, (-1e9,)))[0] <= _DF_TTL}
    missing = [k for k in dict.fromkeys(keys) if k not in found]
    if missing:
        parts, params = [], []
        for key in missing:
            if key == ("n",):
                parts.append(f"(SELECT count(*) FROM {DOCS})")
                continue
            sql, p, tech = key
            text = " ".join(p)
            # Several forms of one term ("a b" or "c"): the set is as common as its most
            # common lexeme (a rare spelling must not lend the whole set a high IDF).
            agg = "max" if '" or "' in text else "min"
            df = (
                f"(SELECT coalesce({agg}(l.ndoc), 0) FROM {LEXEMES} l WHERE l.lexeme = ANY("
                f"tsvector_to_array(to_tsvector('english', %s))))"
            )
            params.append(text)
            if tech:
                df = f"GREATEST({df}, (SELECT count(*) FROM {DOCS} WHERE techs @> ARRAY[%s]))"
                params.append(tech)
            # The tsquery's size and text, which _or_lexemes reads.
            shape = f"(SELECT ARRAY[numnode(x.q)::text, x.q::text] FROM (SELECT {sql} AS q) x)"
            params.extend(p)
            parts.extend([df, shape])
        cur.execute(f"SELECT {', '.join(parts)}", params)
        row = iter(cur.fetchone())
        for key in missing:
            if key == ("n",):
                found[key] = (now, int(next(row) or 0))
            else:
                df, (nodes, text) = next(row), next(row)
                found[key] = (now, int(df or 0), int(nodes), _or_lexemes(text or ""))
        if len(_DF_CACHE) > _DF_CACHE_MAX:
            _DF_CACHE.clear()
        _DF_CACHE.update((k, found[k]) for k in missing)
    n = max(1, found[("n",)][1])
    out = []
    for (label, sql, p, tech, required), key in zip(text_groups, keys[1:], strict=True):
        _, df, nodes, lexemes = found[key]
        weight = idf(n, df) if df else math.log(1 + n / 0.5)
        out.append(_Group(label, sql, p, tech, required, round(weight, 6), nodes, lexemes, df))
    return out


# A tsquery's text form: operands quoted, with quotes and backslashes doubled; a prefix or a
# weight (:*, :AB) follows the closing quote, and operators sit between operands.
_OPERAND = r"'((?:[^'\\]|''|\\\\)*)'"
_PURE_OR = re.compile(rf"{_OPERAND}(?: \| {_OPERAND})*")


def _or_lexemes(tsquery_text: str) -> tuple[str, ...]:
    """The distinct lexemes of a tsquery that is only plain lexemes joined by OR, in order; ()
    for any other (a phrase, AND, NOT, a prefix or weight, stop words only)."""
    if not _PURE_OR.fullmatch(tsquery_text):
        return ()
    found = re.findall(_OPERAND, tsquery_text)
    return tuple(dict.fromkeys(x.replace("''", "'").replace("\\\\", "\\") for x in found))


def _most_stories_likely(groups: list[_Group]) -> bool:
    """Whether the query (no filters) probably matches more than half of the stories, by its
    groups' document frequencies: it decides only the shape of the statement (see _execute),
    never its result. Browsing matches them all."""
    if not groups:
        return True
    required = [g.df for g in groups if g.required]
    estimate = min(required) if required else sum(g.df for g in groups)
    return estimate * 2 > _DF_CACHE.get(("n",), (0, 0))[1]


def execute(plan: QueryPlan) -> Ranked | None:
    if not _exists():
        return None
    ensure_schema()  # an index built by an older version is upgraded in place
    with connection.cursor() as cur:
        return _execute(cur, plan)


def _scores_sql(groups: list[_Group]) -> tuple[str, list, list[str], list]:
    """The per-story score parts, one row per (story, group) match, and the tsqueries they use.

    A group of one lexeme, or of several joined by OR (a word and its aliases), is ranked from
    its postings: ts_rank of an OR of k distinct lexemes is the sum of their own ranks divided
    by k (calc_rank_or in PostgreSQL's tsrank.c), so each posting scores idf * rank / k and the
    sum by story below adds them up. Any other group (a phrase, a word that parses into several
    lexemes in a row) is ranked from the vectors that match it, which the GIN index finds.
    Ranking an alias group of a common word from the vectors read and ranked the 3 kB tsvector
    of nearly every story (at 10,000 stories, 17 of a query's 34 ms).
    Group i sets bit i of the story's matched mask.
    """
    parts: list[str] = []
    params: list = []
    q_cols: list[str] = []
    q_params: list = []
    posted = [(i, g, x) for i, g in enumerate(groups) for x in g.lexemes]
    if posted:
        parts.append(
            "SELECT p.story_id, g.idf * p.rank AS s, g.bit AS b FROM unnest(%s::text[], "
            f"%s::float8[], %s::bigint[]) AS g(lexeme, idf, bit) JOIN {POSTINGS} p "
            "ON p.lexeme = g.lexeme"
        )
        params.append([x for _, _, x in posted])
        params.append([g.idf / len(g.lexemes) for _, g, _ in posted])
        params.append([1 << i for i, _, _ in posted])
    for i, g in enumerate(groups):
        if not g.lexemes and g.nodes:
            q_cols.append(f"{g.sql} AS q{i}")
            q_params.extend(g.params)
            parts.append(
                f"SELECT v.story_id, %s::float8 * (ts_rank('{WEIGHTS}', v.vector, q.q{i}, 0) / "
                f"v.rank_norm)::real, {1 << i}::bigint FROM q, {VECTORS} v WHERE v.vector @@ q.q{i}"
            )
            params.append(g.idf)
        if g.tech:
            parts.append(
                f"SELECT t.story_id, %s::float8 * {TECH_WEIGHT}, {1 << i}::bigint "
                f"FROM {DOCS} t WHERE t.techs @> ARRAY[%s]::text[]"
            )
            params += [g.idf, g.tech]
    if not parts:  # only stop words: nothing can match
        parts.append("SELECT NULL::bigint, NULL::float8, NULL::bigint WHERE FALSE")
    return " UNION ALL ".join(parts), params, q_cols, q_params


def _order_sql(keys: tuple[tuple[str, bool], ...]) -> tuple[str, list[str]]:
    """ORDER BY of the stored values `keys` names (fields.ORDERINGS), and their columns. Text
    compares COLLATE "C" (code points, as Python and the Whoosh backend compare it, whatever
    the database's locale); a missing value (NULL, as "" in Whoosh) orders first."""
    kinds = {f.name: f for f in search_fields.stored()}
    parts, columns = [], []
    for name, descending in keys:
        f = kinds.get(name)
        col = column(f) if f is not None else {"id": "story_id"}.get(name, name)
        text = f is not None and f.kind is search_fields.Kind.KEYWORD
        collate = ' COLLATE "C"' if text else ""
        direction = "DESC NULLS LAST" if descending else "ASC NULLS FIRST"
        parts.append(f"{col}{collate} {direction}")
        columns.append(col)
    return ", ".join(parts), columns


def _execute(cur, plan: QueryPlan) -> Ranked:
    groups = _resolve(cur, _groups(plan))
    use_stored = plan.published_only and USE_STORED_FACETS
    # When the stored counts will probably serve (see below), `m` holds no facet values; when,
    # besides, the page is the best scores, it needs no document row at all: the provenance that
    # breaks ties is joined to the page's candidates only (joining every match's row was 3 of
    # 14 ms for a query matching nearly all of 10,000 stories).
    narrow = use_stored and not plan.filters and _most_stories_likely(groups)
    join_free = narrow and bool(groups) and not plan.order
    where, params = _filters_sql(
        plan.filters, plan.published_only, ids="s.story_id" if join_free else None
    )
    scores_sql, scores_params, q_cols, q_params = _scores_sql(groups)
    # Every tsquery is computed once (a one-row CTE), not once per candidate row.
    for j, words_ in enumerate(plan.excluded):
        q_cols.append(f"{WEBSEARCH} AS x{j}")
        q_params.append(_quoted(words_))
        where.append(
            f"{'s' if groups else 'd'}.story_id NOT IN "
            f"(SELECT x.story_id FROM q, {VECTORS} x WHERE x.vector @@ q.x{j})"
        )
    q_sql = f"WITH q AS MATERIALIZED (SELECT {', '.join(['1 AS one', *q_cols])})"
    if groups:
        required = sum(1 << i for i, g in enumerate(groups) if g.required)
        optional = sum(1 << i for i, g in enumerate(groups) if not g.required)
        if required:
            where.append(f"(s.b & {required}) = {required}")
        if required and optional:  # otherwise every scored story matched an optional group
            where.append(f"(s.b & {optional}) <> 0")
        # OFFSET 0 keeps the parts a subquery of their own, so each row's score is computed
        # before the rows are grouped: pulled up into the grouping, the sort by story carried
        # every matching row's 3 kB vector and spilled to disk past work_mem (at 10,000
        # stories, an alias group matching a third of them: 36 -> 20 ms to the grouped scores).
        source = (
            f"(SELECT story_id, sum(s) AS s, bit_or(b) AS b "
            f"FROM ({scores_sql} OFFSET 0) parts(story_id, s, b) GROUP BY story_id) s"
            + ("" if join_free else f" JOIN {DOCS} d ON d.story_id = s.story_id")
        )
        # As the engine scores (engine.COORD), in float8: a bare 1.0 is a numeric literal, and
        # numeric arithmetic on every match cost 9 ms of 30 at 10,000 matches.
        share = f"{float(COORD)!r}::float8 / {len(groups)}"
        score = f"s.s * (1 + {share} * bit_count(s.b::bit(64)))"
        select, order = f"{score} AS score, s.b AS matched", f"score DESC, {PROVENANCE_ORDER}"
        params = [*scores_params, *params]
    else:
        source = f"{DOCS} d"
        select = "0.0 AS score, 0::bigint AS matched"
    order_columns: list[str] = []
    if plan.order:
        order, order_columns = _order_sql(plan.order)
    # The page is a top-N sort (row_number() over the already ordered page, not a window over
    # every match, which sorted them all). The facets and the total (_facets_sql): counted over
    # the matches, or, when they are most of the published stories, the stored counts minus
    # those of the published stories that did not match (see the module docstring).
    facets_sql, facet_columns = _facets_sql("mf")
    rest_sql, _ = _facets_sql("c", prefix="-")
    big = (
        f"(SELECT count(*) FROM m) * 2 > (SELECT coalesce(max(n), 0) FROM {FACETS} "
        f"WHERE facet = '{TOTAL}' AND value = '')"
        if use_stored
        else "FALSE"
    )
    # When the stored counts will probably serve, `m` holds no facet values: copying every
    # match's tag arrays into it cost as much as the rest of the statement (44 -> 23 ms for a
    # word in 7,600 of 10,000 stories), and `mf` joins them back only if they are counted
    # after all. Otherwise `m` carries them, which a few thousand matches cost less than a join.
    needed = dict.fromkeys(["story_id", "provenance", *order_columns])
    if not narrow:
        needed.update(dict.fromkeys(facet_columns))
    facet_select = ", ".join(f"{'d' if narrow else 'm'}.{c}" for c in facet_columns)
    if join_free:
        # The best scores, with every story tied with the last of them (so the tie-break by
        # provenance and id sees them all), then the page in the full order.
        m_columns = "s.story_id"
        page_sql = (
            f"SELECT t.* FROM (SELECT * FROM m ORDER BY score DESC "
            f"FETCH FIRST (%s + %s) ROWS WITH TIES) t JOIN {DOCS} d USING (story_id) "
            f"ORDER BY t.score DESC, {PROVENANCE_ORDER} "
            "LIMIT %s OFFSET %s"
        )
        page_params = [plan.per_page, plan.offset, plan.per_page, plan.offset]
    else:
        m_columns = ", ".join(f"d.{c}" for c in needed)
        page_sql = f"SELECT * FROM m ORDER BY {order} LIMIT %s OFFSET %s"
        page_params = [plan.per_page, plan.offset]
    sql = f"""
        {q_sql}, m AS MATERIALIZED (
            SELECT {m_columns}, {select}
            FROM {source}
            WHERE {" AND ".join(where) or "TRUE"}
        ),
        pg AS (
            SELECT story_id, score, matched, row_number() OVER () AS rn
            FROM ({page_sql}) p
        ),
        big AS MATERIALIZED (SELECT {big} AS yes),
        c AS MATERIALIZED (
            SELECT {", ".join(f"d.{c}" for c in facet_columns) or "d.story_id"}
            FROM {DOCS} d
            WHERE (SELECT yes FROM big) AND d.status = '{Status.PUBLISHED}'
                AND NOT EXISTS (SELECT 1 FROM m WHERE m.story_id = d.story_id)
        ),
        mf AS MATERIALIZED (
            SELECT {facet_select or "m.story_id"}
            FROM m{f" JOIN {DOCS} d ON d.story_id = m.story_id" if narrow else ""}
            WHERE NOT (SELECT yes FROM big)
        )
        SELECT 'hit', story_id::text, rn, score, matched FROM pg
        UNION ALL SELECT 'big', NULL, (SELECT yes FROM big)::int, NULL, NULL
        UNION ALL SELECT '+' || facet, value, n::bigint, NULL, NULL FROM {FACETS}
            WHERE (SELECT yes FROM big)
        UNION ALL {facets_sql}
        UNION ALL {rest_sql}
    """
    cur.execute(sql, [*q_params, *params, *page_params])
    page: list[tuple[int, int, float, int]] = []
    counted: dict[str, dict[str, int]] = defaultdict(dict)  # over the matches
    stored: dict[str, dict[str, int]] = defaultdict(dict)  # over all published stories
    rest: dict[str, dict[str, int]] = defaultdict(dict)  # over the published non-matches
    from_stored = False
    total = 0
    for kind, value, n, score, matched in cur.fetchall():
        if kind == "hit":
            page.append((n, int(value), float(score), int(matched or 0)))
        elif kind == TOTAL:
            total = n
        elif kind == "big":
            from_stored = bool(n)
        elif kind[0] == "+":
            stored[kind[1:]][value or ""] = n
        elif kind[0] == "-":
            rest[kind[1:]][value or ""] = n
        else:
            counted[kind][value] = n
    if from_stored:
        counted = defaultdict(dict)
        for facet, values in stored.items():
            minus = rest.get(facet, {})
            for value, n in values.items():
                left = n - minus.get(value, 0)
                if left > 0:
                    counted[facet][value] = left
        total = counted.pop(TOTAL, {}).get("", 0)
    page.sort()
    return Ranked([(pk, score, matched) for _, pk, score, matched in page], total, counted)


def highlight(plan: QueryPlan, hits: list[Hit]) -> None:
    groups = _groups(plan)
    query_sql = " || ".join(f"({sql})" for _, sql, p, _, _ in groups if p) or "''::tsquery"
    query_params = [x for _, _, p, _, _ in groups for x in p]
    opts = (
        f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=12, ShortWord=2, "
        "MaxFragments=1, FragmentDelimiter=' … '"
    )
    texts = [_headline_source(f, getattr(hit.story, f)) for hit in hits for f in HIGHLIGHT_FIELDS]
    if not texts:
        return
    # The texts go as one array parameter: with a row of VALUES per text, the statement's text
    # changed with the page's size and psycopg converted its 90 parameters afresh every time.
    with connection.cursor() as cur:
        cur.execute(
            f"WITH q AS (SELECT {query_sql} AS q) "
            f"SELECT v.n, ts_headline('english', v.t, q.q, %s) "
            f"FROM unnest(%s::text[]) WITH ORDINALITY AS v(t, n), q",
            [*query_params, opts, texts],
        )
        rows = cur.fetchall()
    per_hit = len(HIGHLIGHT_FIELDS)
    for n, text in rows:
        if START in text:
            i, f = divmod(n - 1, per_hit)
            html = escape(text).replace(START, "<mark>").replace(STOP, "</mark>")
            hits[i].highlights[HIGHLIGHT_FIELDS[f]] = html


@functools.lru_cache(maxsize=4096)
def _headline_source(field: str, value: str) -> str:
    """The plain text ts_headline marks for a field's value, cached per process: reducing a
    story's Markdown with regular expressions for every hit of every search was a quarter of
    the highlighting's time."""
    return highlight_text(field, value).replace(START, "").replace(STOP, "")[:6000]


def known_words(words_: list[str]) -> set[str]:
    if not _exists():
        return set()
    # A range, not `word = ANY(...)`: pg_trgm's GIN opclass also serves `=`, and the planner
    # picked it over the primary key (12 ms instead of 0.2 ms); it cannot serve a range.
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT w FROM unnest(%s::text[]) AS w "
            f"WHERE EXISTS (SELECT 1 FROM {WORDS} k WHERE k.word >= w AND k.word <= w)",
            [words_],
        )
        return {w for (w,) in cur.fetchall()}


def spelling_candidates(word: str) -> dict[str, int]:
    if not _exists():
        return {}
    # The planner prices pg_trgm's GIN index above a sequential scan of the word table even at
    # thousands of words, and the scan computes every word's similarity: 5 ms at 4,000 words,
    # 0.2 ms through the index. Sequential scans are off for this one statement (SET LOCAL, put
    # back as it was: inside a caller's transaction it would outlive this function).
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)"
        )
        before = cur.fetchone()[0]
        cur.execute(
            f"SELECT word, ndoc FROM {WORDS} WHERE word %% %s "
            "ORDER BY similarity(word, %s) DESC, ndoc DESC LIMIT 10",
            [word, word],
        )
        rows = cur.fetchall()
        cur.execute("SELECT set_config('enable_seqscan', %s, true)", [before])
    return dict(rows)


# --- Helpers for more-like-this and match_text ---------------------------------------------------


def term_document_frequency(word: str) -> int:
    if not _exists():
        return 0
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {VECTORS} WHERE vector @@ {WEBSEARCH}", [word])
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
            f"SELECT w, websearch_to_tsquery('english', w)::text, "
            f"(SELECT count(*) FROM {VECTORS} WHERE vector @@ websearch_to_tsquery('english', w)), "
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
        scored.append((weights[word] * idf(n, df), word))
    scored.sort(reverse=True)
    return [w for _, w in scored[:wanted_count]]
