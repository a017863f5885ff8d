"""Whoosh index storage: generations, the atomic `CURRENT` pointer, and safe multi-process writes.

Layout under settings.KB_SEARCH_INDEX_DIR:

    CURRENT              one line: the name of the live generation directory
    gen-<ns>-<pid>/      a complete Whoosh index

A rebuild writes a new generation and then replaces CURRENT with os.replace (atomic on POSIX), so
readers see either the old or the new index, never a half-built one; a crash mid-rebuild leaves
CURRENT untouched. Incremental writers take the live generation's Whoosh write lock, retrying with
jittered backoff on LockError (see docs/search.md for why not an outbox), and re-read the stories
from the database *after* taking the lock, so the last writer always writes the latest committed
state: no update is lost whichever process wins the race.

Every Whoosh commit writes a new `_MAIN_<n>.toc` and deletes the previous one and any segment the
merge replaced. Opening a generation (list the directory, pick the highest TOC, read it, open its
segments) therefore races with other processes' commits: writers take the lock *before* reading
the TOC, and readers retry the whole open with jittered backoff (`_retry`), each attempt listing
the directory afresh, so they read the TOC that replaced the one that vanished.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
import stat
import time
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from whoosh import fields
from whoosh.analysis import StemmingAnalyzer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, FileIndex, LockError
from whoosh.lang.porter import stem as porter_stem
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from incidents.search import fields as search_fields
from incidents.search.documents import StoryDoc, stories_for_indexing, story_doc
from incidents.search.query import STOPWORDS, words

log = logging.getLogger(__name__)

POINTER = "CURRENT"
FIELD_BOOSTS = {g.name: g.boost for g in search_fields.TEXT_GROUPS}
WRITE_TIMEOUT = 60.0  # seconds a writer keeps retrying before giving up (logged; --check repairs)
KEEP_OLD_SECONDS = 600  # old generations are removed by later rebuilds after this long
LIMIT_MB = 512  # rebuild posting pool held in memory before sorted runs spill to disk
OPEN_TIMEOUT = 10.0  # seconds an open keeps retrying while other processes' commits replace files
WRITE_LOCK = "MAIN_WRITELOCK"  # the file FileIndex.lock("WRITELOCK") locks (index name "MAIN")
# A file named by the TOC we just listed was replaced by a concurrent commit (or, for
# EmptyIndexError, no TOC was visible at all): transient, a fresh attempt reads the new TOC.
TRANSIENT_OPEN_ERRORS = (FileNotFoundError, EmptyIndexError)

T = TypeVar("T")

ANALYZER = StemmingAnalyzer(stoplist=STOPWORDS, minsize=1, cachesize=100_000)

# --- Fast analysis -------------------------------------------------------------------------------
# The same tokens as ANALYZER (Whoosh's RegexTokenizer default pattern, lower case, our stop words
# with positions renumbered, Porter stems), computed in one loop instead of a chain of generators
# over Token objects: indexing spent most of its time in that chain.

_TOKEN_RE = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
_STEM_CACHE_MAX = 200_000
_stems: dict[str, str] = {}


def stem_word(word: str) -> str:
    """Porter stem of a lower-case word, memoised (ANALYZER's StemFilter, without the chain)."""
    s = _stems.get(word)
    if s is None:
        if len(_stems) >= _STEM_CACHE_MAX:
            _stems.clear()
        s = _stems[word] = porter_stem(word)
    return s


def cached_stems() -> dict[str, str]:
    """The memo of `stem_word` (word -> stem), for callers that look up many words at once."""
    return _stems


def _analyse(text: str) -> tuple[int, list[str]]:
    """(position of the first kept token, stems in order): what ANALYZER indexes. Positions
    follow StopFilter(renumber=True): the first kept token keeps its index, later ones follow
    it consecutively."""
    stems = _stems
    out: list[str] = []
    first = -1
    for i, token in enumerate(_TOKEN_RE.findall(text)):
        word = token.lower()
        if word in STOPWORDS:
            continue
        if first < 0:
            first = i
        s = stems.get(word)
        out.append(s if s is not None else stem_word(word))
    return max(first, 0), out


def analyse_text(text: str) -> list[str]:
    """Stems of `text` in order, stop words removed."""
    return _analyse(text)[1]


class Analysed(str):
    """A field value that carries its analysis, so a document's text is analysed once for both
    its postings and its stem sequence."""

    __slots__ = ("first", "stems")

    def __new__(cls, text: str) -> Analysed:
        self = super().__new__(cls, text)
        self.first, self.stems = _analyse(text)
        return self


def _index_positions(value: str) -> dict[str, list[int]]:
    """stem -> positions."""
    if isinstance(value, Analysed):
        first, stems = value.first, value.stems
    else:
        first, stems = _analyse(value)
    poses: dict[str, list[int]] = {}
    for pos, s in enumerate(stems, first):
        bucket = poses.get(s)
        if bucket is None:
            poses[s] = [pos]
        else:
            bucket.append(pos)
    return poses


class FastText(fields.TEXT):
    """A TEXT field (positions, ANALYZER at query time) whose indexing skips the analyzer chain.

    Produces exactly the postings fields.TEXT would: (term bytes, frequency, weight, positions
    encoded by the field's Positions format)."""

    def index(self, value, **kwargs):
        encode = self.format.encode
        boost = self.format.field_boost
        return [
            (term.encode("utf-8"), len(p), len(p) * boost, encode(p))
            for term, p in _index_positions(value).items()
        ]


_KEYWORD_RE = re.compile(r"[^ \t\r\n]+")  # Whoosh's SpaceSeparatedTokenizer


class FastKeyword(fields.KEYWORD):
    """A KEYWORD field (space-separated, optionally lower-cased, frequencies) whose indexing
    counts the words directly instead of running Whoosh's token chain: the same postings."""

    def __init__(self, *, lowercase: bool = False, **kwargs) -> None:
        super().__init__(lowercase=lowercase, **kwargs)
        self.lowercase = lowercase

    def index(self, value, **kwargs):
        lowercase = self.lowercase
        counts: dict[str, int] = {}
        for word in _KEYWORD_RE.findall(value):
            if lowercase:
                word = word.lower()
            counts[word] = counts.get(word, 0) + 1
        boost = self.format.field_boost
        return [
            (word.encode("utf-8"), freq, freq * boost, pack_uint(freq))
            for word, freq in counts.items()
        ]


# --- The packed term field ------------------------------------------------------------------------
# Scoring needs, per stem and story, the stem's frequency in each text group (BM25F). Reading three
# posting lists per stem (one per group) through Whoosh's matchers costs about a microsecond per
# posting in Python, and a common word has a posting in nearly every story in each group: most of
# a query's time whenever its words were not cached yet. So each stem has one posting per story in
# the `terms` field whose weight packs the group frequencies, 8 bits each (head lowest):
# weight = tf_head + 256 * tf_symptom + 65536 * tf_body. Whoosh keeps weights as 32-bit floats,
# exact for integers below 2**24: three groups of 8 bits fit, and a frequency above 255 in one
# group (a word written 256 times in one story's body) counts as 255. The groups' lengths, which
# BM25F normalises by, are stored per story (`lengths`) as Whoosh would have kept them (its
# one-byte length encoding), so scores equal those of per-group postings to the last bit.

PACKED_FIELD = "terms"
PACK_BITS = 8
PACK_MAX = (1 << PACK_BITS) - 1
TEXT_FIELD_NAMES = tuple(FIELD_BOOSTS)
if len(TEXT_FIELD_NAMES) != 3:
    raise ImproperlyConfigured(
        "incidents.search.fields.TEXT_GROUPS: the packed `terms` field holds exactly three text "
        "groups (8 bits each in a 32-bit float weight; whoosh_backend._View._packed_tf)"
    )


def stored_length(n: int) -> int:
    """A field length as Whoosh stores it (one byte, approximate for long fields)."""
    return byte_to_length(length_to_byte(n))


class PackedTerms(fields.KEYWORD):
    """One posting per stem and document; the weight packs the stem's frequency in each text
    group (see above). Indexed from a tuple of the groups' texts (`Analysed`, in
    TEXT_FIELD_NAMES order); never parsed as a query."""

    def __init__(self) -> None:
        super().__init__(scorable=True)  # a length column, as for FastKeyword

    def index(self, value, **kwargs):
        packed: dict[str, list[int]] = {}
        n = len(value)
        for i, text in enumerate(value):
            for s in text.stems if isinstance(text, Analysed) else analyse_text(text):
                counts = packed.get(s)
                if counts is None:
                    counts = packed[s] = [0] * n
                counts[i] += 1
        out = []
        for s, counts in packed.items():
            weight = 0
            for i, c in enumerate(counts):
                weight |= min(c, PACK_MAX) << (PACK_BITS * i)
            freq = sum(counts)
            out.append((s.encode("utf-8"), freq, float(weight), pack_uint(freq)))
        return out


SCHEMA = fields.Schema(
    id=fields.ID(stored=True, unique=True),
    version=fields.STORED,
    dochash=fields.STORED,
    # {"status", "sort_date", and each declared field's and sort key's name
    #  (incidents.search.fields.stored()): value}
    meta=fields.STORED,
    # Stems with their per-group frequencies packed in the weight (see PackedTerms), and the
    # groups' stem counts as Whoosh would store them: what BM25F scoring reads.
    terms=PackedTerms(),
    lengths=fields.STORED,
    # An index written before the packed field had one positional posting list per group;
    # the fields stay declared so that such an index still opens and scores (whoosh_backend).
    head=FastText(analyzer=ANALYZER),
    symptom=FastText(analyzer=ANALYZER),
    body=FastText(analyzer=ANALYZER),
    # scorable=True only so Whoosh keeps a length column: without one its segment writer stats
    # the column file once per posting (a third of the build time in profiles).
    tech=FastKeyword(scorable=True),
    spell=FastKeyword(lowercase=True, scorable=True),
    # The stems of head, symptom and body in order, " | " between fields: phrase matching is a
    # substring test on this (see whoosh_backend._View.phrase), much cheaper than decoding
    # positions for every document that holds all the words.
    seq=fields.STORED,
)

SEQ_FIELD_SEPARATOR = " | "  # "|" is never part of a token, so no phrase spans two fields


def stem_sequence(*texts: str) -> str:
    """ " a b | c d | e " for the texts' stems: a phrase is in it iff " w1 w2 " is."""
    parts = [" ".join(t.stems if isinstance(t, Analysed) else analyse_text(t)) for t in texts]
    return " " + SEQ_FIELD_SEPARATOR.join(parts) + " "


# Postings per block. Whoosh's 128 suits its matchers, which skip from block to block; every
# term we score is read whole (whoosh_backend._posting_blocks), and each block costs a seek, an
# unpickled header and a decompression: with 1,024, a common word of the 10,000-story bench
# corpus reads in 1.5 ms instead of 5.4, and the index is a tenth smaller. Segments written
# before keep their blocks; any block size reads the same.
BLOCK_LIMIT = 1024


def _build_codec() -> W3Codec:
    """Whoosh's codec with larger posting blocks (BLOCK_LIMIT) and without per-block length
    statistics: they only serve Whoosh's own BM25 block-quality pruning, which we do not use,
    and collecting them reads the length column back once per posting while a segment is
    written."""
    codec = W3Codec(blocklimit=BLOCK_LIMIT)
    codec.length_stats = False
    return codec


class TermPool:
    """The rebuild's posting pool: postings grouped by (field, term) as documents arrive.

    Whoosh's own pool keeps one (field, term, doc, weight, value) tuple per posting, sorts them
    all at commit and, past `limitmb` by its (pessimistic) size estimate, pickles sorted runs to
    disk and merges them back: at 10,000 stories that spill, merge and sort were over a third of
    the rebuild. Documents arrive in document order, so each term's postings are already sorted;
    only the distinct terms are sorted at the end. Memory: three compact arrays per term (about
    80 MB per million postings); the whole rebuild's postings stay in memory."""

    def __init__(self) -> None:
        self.terms: dict[tuple[str, bytes], tuple[array, array, list]] = {}
        self.fieldnames: set[str] = set()
        self._unsorted: set[tuple[str, bytes]] = set()

    def add(self, item: tuple) -> None:
        fieldname, tbytes, docnum, weight, value = item
        key = (fieldname, tbytes)
        postings = self.terms.get(key)
        if postings is None:
            postings = self.terms[key] = (array("q"), array("d"), [])
            self.fieldnames.add(fieldname)
        elif postings[0][-1] > docnum:
            self._unsorted.add(key)
        postings[0].append(docnum)
        postings[1].append(weight)
        postings[2].append(value)

    def iter_postings(self):
        """(fieldname, term bytes, docnum, weight, value) in field, term, document order."""
        for key in sorted(self.terms):
            fieldname, tbytes = key
            docs, weights, values = self.terms[key]
            rows = zip(docs, weights, values, strict=True)
            if key in self._unsorted:
                rows = sorted(rows, key=lambda row: row[0])
            for docnum, weight, value in rows:
                yield fieldname, tbytes, docnum, weight, value

    def cleanup(self) -> None:
        self.terms.clear()


def root() -> Path:
    return Path(settings.KB_SEARCH_INDEX_DIR)


def current_generation(base: Path | None = None) -> str | None:
    try:
        name = (base or root()).joinpath(POINTER).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name or None


class GenerationMissing(FileNotFoundError):
    """The generation directory itself is gone (an old one removed after a rebuild): not
    transient, so never retried."""


def _pause(delay: float, cap: float = 0.25) -> float:
    """Sleep a jittered `delay`; return the next (doubled, capped) delay."""
    time.sleep(delay * (0.5 + random.random()))
    return min(delay * 2, cap)


def _retry(attempt: Callable[[], T], what: str, *, timeout: float = OPEN_TIMEOUT) -> T:
    """attempt(), retried with jittered backoff while it fails with a transient open error.

    Each attempt must start from scratch (list the directory, read the newest TOC, open its
    segments): the error means a concurrent commit replaced what the previous attempt listed."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    tries = 1
    while True:
        try:
            return attempt()
        except GenerationMissing:
            raise
        except TRANSIENT_OPEN_ERRORS as exc:
            if time.monotonic() > deadline:
                log.warning("search index: %s still failing after %d tries: %s", what, tries, exc)
                raise
            log.debug("search index: %s raced a concurrent commit (%s); retrying", what, exc)
        delay = _pause(delay)
        tries += 1


def _storage(name: str, base: Path | None = None) -> FileStorage:
    # No mmap: old generations and merged segments are deleted while other processes may still
    # read them; plain file handles keep working on POSIX and never pin address space.
    return FileStorage(str((base or root()) / name), supports_mmap=False)


def open_generation(name: str, base: Path | None = None) -> FileIndex:
    """Open generation `name`, retrying while concurrent commits replace its newest TOC."""
    path = (base or root()) / name

    def attempt() -> FileIndex:
        if not path.is_dir():
            raise GenerationMissing(f"search index generation {path} does not exist")
        return _storage(name, base).open_index(schema=SCHEMA)

    return _retry(attempt, f"opening {name}")


def open_searcher(ix: FileIndex):
    """A searcher over the newest TOC of `ix`; retried if a commit deletes a segment between
    reading the TOC and opening the segment files. Once open, the segment file handles stay
    readable even when a later commit deletes the files (POSIX, no mmap)."""
    return _retry(ix.searcher, "opening a searcher")


def _new_generation(base: Path) -> tuple[str, FileIndex]:
    base.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.time_ns()}-{os.getpid()}"
    path = base / name
    path.mkdir()
    ix = FileStorage(str(path), supports_mmap=False).create_index(SCHEMA)
    return name, ix


def _swap(base: Path, name: str) -> None:
    tmp = base / f".{POINTER}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, base / POINTER)
    dirfd = os.open(base, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


def ensure_index() -> str:
    """The live generation, creating an empty one if there is none."""
    base = root()
    name = current_generation(base)
    if name is None or not (base / name).is_dir():
        name, ix = _new_generation(base)
        ix.close()
        _swap(base, name)
    return name


def doc_fields(doc: StoryDoc) -> dict:
    # Did-you-mean vocabulary: title, technologies, symptom and summary words (not the long tail
    # of the body, which would double the postings for little gain).
    vocabulary = " ".join(sorted(set(words(doc.head + " " + doc.symptom))))
    texts = tuple(Analysed(getattr(doc, name)) for name in TEXT_FIELD_NAMES)
    return {
        "id": str(doc.pk),
        "version": doc.version,
        "dochash": doc.doc_hash,
        "meta": {"status": doc.status, "sort_date": doc.sort_date, **doc.values},
        "terms": texts,
        "lengths": [stored_length(len(t.stems)) for t in texts],
        "seq": stem_sequence(*texts),
        "tech": " ".join(doc.value("technology")),
        "spell": vocabulary,
    }


def _with_writer(apply: Callable, *, timeout: float = WRITE_TIMEOUT) -> None:
    """Run apply(writer) on the live generation under its lock; retry on contention.

    The lock is taken *before* the index is opened: Whoosh's own writer opens the index (reading
    the newest TOC) and only then locks, so the TOC it read could be deleted by the commit of the
    writer holding the lock. Under the lock no other commit can replace the TOC we read."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        name = ensure_index()
        lock = _storage(name).lock(WRITE_LOCK)
        if not lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise LockError(f"search index {name} stayed locked for {timeout:.0f} s")
            delay = _pause(delay)
            continue
        try:
            if current_generation() != name:
                # A rebuild swapped generations while we waited: write to the new one.
                continue
            ix = open_generation(name)
            try:
                # _lk=False (Whoosh's own name for "the caller holds the lock"; its
                # multiprocessing writer passes it the same way): we already hold WRITE_LOCK,
                # the file lock the writer would take, and flock locks belong to an open file,
                # so taking it again here would fail against our own lock. The public writer()
                # offers only its own locking (fixed-delay retries, the generation unchecked),
                # not writing under a lock taken before the TOC is read.
                writer = ix.writer(codec=_build_codec(), _lk=False)
                try:
                    apply(writer)
                    writer.commit()
                except BaseException:
                    if not writer.is_closed:
                        writer.cancel()
                    raise
            finally:
                ix.close()
            return
        finally:
            lock.release()


def write_stories(ids: Iterable[int]) -> None:
    """Make the index match the database for these story ids (index, update or remove)."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return

    def apply(writer) -> None:
        # Read after taking the lock: whoever writes last writes the latest committed rows.
        found = {s.pk: s for s in stories_for_indexing(ids)}
        for pk in ids:
            story = found.get(pk)
            if story is None:
                writer.delete_by_term("id", str(pk))
            else:
                writer.update_document(**doc_fields(story_doc(story)))

    _with_writer(apply)


def indexed_versions(name: str | None = None) -> dict[int, tuple[int, str]]:
    """story id -> (version, doc hash) as indexed in the live generation."""

    def read() -> dict[int, tuple[int, str]]:
        gen = name or current_generation()
        if gen is None:
            return {}
        ix = open_generation(gen)
        try:
            with ix.reader() as reader:
                return {
                    int(f["id"]): (f["version"], f["dochash"])
                    for _, f in reader.iter_docs()
                    if "id" in f
                }
        finally:
            ix.close()

    return _retry(read, "reading indexed versions")


def rebuild(*, batch_size: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Build a new generation from the database and swap it in. Returns the story count."""
    base = root()
    name, ix = _new_generation(base)
    count = 0
    try:
        writer = ix.writer(limitmb=LIMIT_MB, procs=1, codec=_build_codec())
        writer.pool = TermPool()
        try:
            qs = stories_for_indexing().order_by("pk")
            for story in qs.iterator(chunk_size=batch_size):
                writer.add_document(**doc_fields(story_doc(story)))
                count += 1
                if progress and count % batch_size == 0:
                    progress(count)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
    finally:
        ix.close()
    _swap_in(base, name)
    _remove_old_generations(base)
    return count


def _swap_in(base: Path, name: str) -> None:
    """Swap while holding the old generation's write lock, so no incremental write lands in the
    old generation after the swap (writers that took the lock before are caught by --check)."""
    old = current_generation(base)
    if old is None or not (base / old).is_dir():
        _swap(base, name)
        return
    deadline = time.monotonic() + WRITE_TIMEOUT
    lock = _storage(old, base).lock(WRITE_LOCK)  # the lock only: no TOC read, nothing to race
    while True:
        if lock.acquire(blocking=False):
            try:
                _swap(base, name)
                return
            finally:
                lock.release()
        if time.monotonic() > deadline:
            _swap(base, name)  # a stuck writer must not block the rebuild forever
            return
        time.sleep(0.02)


def _remove_old_generations(base: Path) -> None:
    live = current_generation(base)
    gens = sorted(p for p in base.glob("gen-*") if p.is_dir() and p.name != live)
    keep_previous = gens[-1:] if gens else []
    for path in gens:
        if path in keep_previous:
            continue
        try:
            age = time.time() - int(path.name.split("-")[1]) / 1e9
        except (IndexError, ValueError):
            continue
        if age > KEEP_OLD_SECONDS:
            shutil.rmtree(path, ignore_errors=True)


def index_size_bytes() -> int:
    name = current_generation()
    if name is None:
        return 0
    total = 0
    try:
        paths = list((root() / name).iterdir())
    except FileNotFoundError:
        return 0
    for p in paths:
        try:
            st = p.stat()
        except FileNotFoundError:
            continue  # deleted by a concurrent commit since the listing
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
    return total
