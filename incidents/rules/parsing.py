"""Safe loading of Kubernetes manifests: multi-document YAML, JSON, `kind: List`, Helm output.

`load_documents(text, limits)` never expands a YAML alias, never recurses on input depth and never
raises for a malformed document: it returns the documents it could read and one `InputError` per
problem, with the document index and the 1-based line. Only input that is refused as a whole
(over the size limit, not UTF-8) raises `InputRefused`, a `ParseError`.

Why not `yaml.load_all`: PyYAML's constructor expands aliases (billion laughs), keeps the last of
duplicate keys silently and turns timestamps into `datetime`. Here libyaml (the C parser behind
`yaml.CSafeLoader`) produces events and a small iterative builder turns them into plain
dict/list/str/int/float/bool/None values, checking depth, node count and duplicate keys as it
goes, and records the line of every key and list item in a parallel tree so findings can
point at `spec.template.spec.containers[0].resources` (`Document.line_of`). It is still faster
than `yaml.load_all(..., Loader=yaml.CSafeLoader)` (see bench/check_bench.py). JSON input is
read with `json`; its lines are found on demand by reading it again as YAML.
"""

from __future__ import annotations

import gc
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

try:  # the C parser is the supported configuration; the pure-Python one is a slow fallback
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits. Everything above them is refused with an error, never partially expanded."""

    max_bytes: int = 5 * MIB
    max_documents: int = 10_000
    max_nodes: int = 1_000_000  # scalars plus collections, over the whole input
    max_depth: int = 64


DEFAULT_LIMITS = Limits()


class ParseError(ValueError):
    """Base class for input problems raised by this module."""

    code = "parse-error"


class InputRefused(ParseError):
    """The input as a whole is refused (too large, not text)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class InputError:
    """One problem in the input: `document` is the 0-based index, `line` 1-based (or None)."""

    document: int | None
    line: int | None
    message: str
    code: str
    file: str | None = None  # set when a run checks several named inputs

    def as_dict(self) -> dict[str, Any]:
        data = {
            "document": self.document,
            "line": self.line,
            "message": self.message,
            "code": self.code,
        }
        if self.file:
            data["file"] = self.file
        return data


@dataclass(slots=True, eq=False)
class Document:
    """One parsed document and what is needed to find lines in it later."""

    index: int
    data: Any
    line: int  # 1-based line of the document's first line in the input
    source: str | None = None  # Helm's `# Source: chart/templates/x.yaml`, when present
    _text: str = field(default="", repr=False)  # the document's chunk, for line lookup
    _line_offset: int = field(default=0, repr=False)
    _nth: int = field(default=0, repr=False)  # position of the document inside its chunk
    _lines: Any = field(default=None, repr=False)

    def line_of(self, path: str) -> int | None:
        """The 1-based line of the deepest existing field on `path` (`a.b[0].c`), or None.

        The line tree mirrors the data: a collection is `(line, {key: child} | [child])`, a
        scalar just its 0-based line (ints keep the tree small).
        """
        if self._lines is None:
            tree = _line_tree(self._text, self._nth)
            self._lines = False if tree is None else tree
        node = self._lines
        if node is False:
            return None
        if isinstance(node, int):
            return node + self._line_offset + 1
        line = node[0]
        for token in _path_tokens(path):
            if isinstance(node, int):
                break
            children = node[1]
            if isinstance(token, int):
                if not isinstance(children, list) or not -len(children) <= token < len(children):
                    break
                node = children[token]
            else:
                if not isinstance(children, dict) or token not in children:
                    break
                node = children[token]
            line = node if isinstance(node, int) else node[0]
        return line + self._line_offset + 1


class _DocumentError(Exception):
    """Abandon the current document (the event stream is then skipped to its end)."""

    def __init__(self, message: str, code: str, line: int | None):
        super().__init__(message)
        self.code = code
        self.line = line
        self.key: Any = None  # the repeated key, for duplicate-key errors


class _StreamError(_DocumentError):
    """Abandon the whole input (a global limit was crossed)."""


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


def _path_tokens(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    for name, index in _PATH_TOKEN.findall(path):
        tokens.append(int(index) if index else name)
    return tokens


# --- scalars -----------------------------------------------------------------------------------

_IMPLICIT = Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = SafeConstructor()
_BOOL = SafeConstructor.bool_values
_T_INT = "tag:yaml.org,2002:int"
_T_FLOAT = "tag:yaml.org,2002:float"
_T_BOOL = "tag:yaml.org,2002:bool"
_T_NULL = "tag:yaml.org,2002:null"
_PLAIN_CACHE: dict[str, Any] = {}
_PLAIN_CACHE_MAX = 4096


# No Kubernetes number needs more characters than this (an int64 has 19 digits, a YAML 1.1
# sexagesimal int64 about 33 characters). Longer numbers are refused before conversion: Python
# refuses to convert integers of over 4,300 digits, and PyYAML converts a sexagesimal number
# (`1:0:0:0...`) with one big-integer multiplication per part, quadratic in its length (38 s of
# CPU for a 1.4 MB scalar).
MAX_NUMBER_CHARS = 100


class NumberTooLong(ValueError):
    """A number's text is longer than MAX_NUMBER_CHARS: refused, never converted."""

    def __init__(self, text: str):
        super().__init__(
            f"a number of {len(text)} characters ({text[:20]}...) is refused: Kubernetes numbers "
            f"fit in {MAX_NUMBER_CHARS} characters"
        )


_NUMBERISH = re.compile(r"[-+]?[0-9][0-9_:.+-]*")


def _typed(tag: str, value: str) -> Any:
    if tag == _T_INT:
        if len(value) > MAX_NUMBER_CHARS:
            raise NumberTooLong(value)
        return _CONSTRUCTOR.construct_yaml_int(ScalarNode(tag, value))
    if tag == _T_FLOAT:
        if len(value) > MAX_NUMBER_CHARS and ":" in value:
            raise NumberTooLong(value)  # sexagesimal: one Python step per part
        return _CONSTRUCTOR.construct_yaml_float(ScalarNode(tag, value))
    if tag == _T_BOOL:
        return _BOOL[value.lower()]
    if tag == _T_NULL:
        return None
    # timestamps, binary and unknown or custom tags (`!Ref`, `!vault`) stay strings, as the
    # Kubernetes API would see them once quoted: the checks read names and numbers, not dates.
    return value


def _plain(value: str) -> Any:
    """Resolve a plain scalar like PyYAML's SafeLoader does (YAML 1.1: `yes`/`on` are bools)."""
    cached = _PLAIN_CACHE.get(value, _PLAIN_CACHE)
    if cached is not _PLAIN_CACHE:
        return cached
    result: Any = value
    resolvers = _IMPLICIT.get(value[0] if value else "")
    if resolvers is not None:
        if len(value) > MAX_NUMBER_CHARS and ":" in value:
            # Only a sexagesimal number has both a digit first and a colon; PyYAML's pattern for
            # it repeats a group per part, and matching 700,000 parts takes ~80 MB of stack.
            if _NUMBERISH.fullmatch(value):
                raise NumberTooLong(value)
            resolvers = [(t, r) for t, r in resolvers if t != _T_INT and t != _T_FLOAT]
        for tag, regexp in resolvers:
            if regexp.match(value):
                result = _typed(tag, value)
                break
    if len(value) < 64:
        if len(_PLAIN_CACHE) >= _PLAIN_CACHE_MAX:
            _PLAIN_CACHE.clear()
        _PLAIN_CACHE[value] = result
    return result


def _scalar(event: ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return event.value
        try:
            return _plain(event.value)
        except NumberTooLong as exc:
            raise _DocumentError(str(exc), "bad-scalar", event.start_mark.line) from None
    if tag.startswith("tag:yaml.org,2002:"):
        try:
            return _typed(tag, event.value)
        except (ValueError, KeyError, TypeError) as exc:
            raise _DocumentError(
                f"cannot read {event.value[:40]!r} as {tag.rsplit(':', 1)[-1]}: {exc}",
                "bad-scalar",
                event.start_mark.line,
            ) from None
    return event.value


# --- the event builder -------------------------------------------------------------------------

_NOKEY = object()


class _Budget:
    __slots__ = ("nodes",)

    def __init__(self, nodes: int):
        self.nodes = nodes


def _build_chunk(text: str, limits: Limits, budget: _Budget, track: bool = False):
    """Yield ("doc", data, lines, start_line) or ("error", _DocumentError) for one chunk."""
    loader = _Loader(text)
    get_event = loader.get_event
    max_depth = limits.max_depth
    stack: list[Any] = []
    keys: list[Any] = []
    lstack: list[Any] = []
    current: Any = None
    key: Any = _NOKEY
    lcur: Any = None
    lkey = 0
    ldone: Any = None
    start_line = 0
    skipping: _DocumentError | None = None
    repeated: dict[int, tuple[Any, Any, int]] = {}  # id(new value) -> (key, old value, line)
    try:
        while True:
            try:
                event = get_event()
            except Exception as exc:  # libyaml: scanner, parser, reader and encoding errors
                mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
                if isinstance(exc, yaml.MarkedYAMLError):
                    problem = " ".join(p for p in (exc.context, exc.problem) if p)
                else:
                    problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                yield ("error", _DocumentError(problem, "yaml-syntax", mark.line if mark else None))
                return
            cls = event.__class__
            if cls is ScalarEvent or cls is AliasEvent:
                budget.nodes -= 1
                if budget.nodes < 0:
                    raise _StreamError(
                        f"more than {limits.max_nodes} YAML nodes in the input",
                        "too-many-nodes",
                        event.start_mark.line,
                    )
                if skipping:
                    continue
                if cls is AliasEvent:
                    skipping = _DocumentError(
                        f"YAML alias *{event.anchor} refused: aliases and merge keys are not "
                        "supported (they allow exponential expansion)",
                        "yaml-alias",
                        event.start_mark.line,
                    )
                    continue
                try:
                    value = _scalar(event)
                except _DocumentError as exc:
                    skipping = exc
                    continue
                if current.__class__ is dict:
                    if key is _NOKEY:
                        key = value
                        if track:
                            lkey = event.start_mark.line
                        continue
                    if key in current:
                        yield _duplicate(key, current[key], value, event.start_mark.line)
                    current[key] = value
                    if track:
                        lcur[1][key] = lkey  # a scalar's entry is just its line
                    key = _NOKEY
                elif current is None:  # a document that is a single scalar
                    start_line = event.start_mark.line
                    yield ("doc", value, event.start_mark.line, start_line)
                else:
                    current.append(value)
                    if track:
                        lcur[1].append(event.start_mark.line)
                continue
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                budget.nodes -= 1
                if budget.nodes < 0:
                    raise _StreamError(
                        f"more than {limits.max_nodes} YAML nodes in the input",
                        "too-many-nodes",
                        event.start_mark.line,
                    )
                line = event.start_mark.line
                if len(stack) >= max_depth and not skipping:
                    skipping = _DocumentError(
                        f"nesting deeper than {max_depth} levels refused", "too-deep", line
                    )
                new: Any = {} if cls is MappingStartEvent else []
                if current is None:
                    start_line = line
                elif skipping:
                    pass
                elif current.__class__ is dict:
                    if key is _NOKEY:
                        skipping = _DocumentError(
                            "complex mapping keys (a mapping or list used as a key) are not "
                            "supported",
                            "complex-key",
                            line,
                        )
                    else:
                        if key in current:  # judged when the new value is complete
                            repeated[id(new)] = (key, current[key], lkey if track else line)
                        current[key] = new
                else:
                    current.append(new)
                stack.append(current)
                keys.append(key)
                current = new
                key = _NOKEY
                if track:
                    lnew = (line, {} if cls is MappingStartEvent else [])
                    if lcur is not None and not skipping:
                        if lcur[1].__class__ is dict:
                            lcur[1][keys[-1]] = (lkey, lnew[1])
                        else:
                            lcur[1].append(lnew)
                    lstack.append(lcur)
                    lcur = lnew
                continue
            if cls is MappingEndEvent or cls is SequenceEndEvent:
                done = current
                if repeated and id(done) in repeated:
                    dup_key, previous, dup_line = repeated.pop(id(done))
                    yield _duplicate(dup_key, previous, done, dup_line)
                current = stack.pop()
                key = _NOKEY
                keys.pop()
                if track:
                    ldone = lcur
                    lcur = lstack.pop()
                if current is None and not skipping:
                    yield ("doc", done, ldone if track else None, start_line)
                continue
            if cls is DocumentEndEvent:
                if skipping:
                    yield ("error", skipping)
                    skipping = None
                current = None
                stack.clear()
                keys.clear()
                continue
            if cls is StreamEndEvent:
                return
            # StreamStart, DocumentStart: nothing to do
    finally:
        loader.dispose()


def _duplicate(key: Any, previous: Any, value: Any, line: int):
    """A repeated key: a warning when both values are equal (nothing is lost), an error when
    they differ (the document says two things; the last one is used)."""
    if previous == value and type(previous) is type(value):
        found = _DocumentError(
            f"duplicate key {key!r} with the same value", "duplicate-key-same", line
        )
        found.key = key
        return "warning", found
    found = _DocumentError(
        f"duplicate key {key!r} with a different value (the last value is used)",
        "duplicate-key",
        line,
    )
    found.key = key
    return "error", found


def _line_tree(text: str, nth: int):
    """Parse one chunk again with line tracking; return the line tree of its nth document."""
    budget = _Budget(10**9)
    limits = Limits(max_bytes=10**12, max_documents=10**9, max_nodes=10**9)
    seen = 0
    try:
        for item in _build_chunk(text, limits, budget, track=True):
            if item[0] == "doc":
                if seen == nth:
                    return item[2]
                seen += 1
    except _DocumentError:
        return None
    return None


# --- the stream --------------------------------------------------------------------------------

_DOC_START = re.compile(r"^(?=---(?:[ \t]|\r?$))", re.MULTILINE)
_HELM_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes | bytearray | memoryview):
        data = bytes(text)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputRefused(
                f"input is not UTF-8 text (byte {exc.start} cannot be decoded)", "not-utf8"
            ) from None
    if not isinstance(text, str):
        raise TypeError(f"expected str or bytes, not {type(text).__name__}")
    return text[1:] if text.startswith("\ufeff") else text


@dataclass(slots=True)
class LoadResult:
    documents: list[Document]
    errors: list[InputError]
    warnings: list[InputError] = field(default_factory=list)  # e.g. a key repeated, same value


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while building acyclic data.

    Loading allocates hundreds of thousands of dicts, lists and tuples that are all alive until
    the end; each automatic collection walks all of them, so with the collector on, loading
    10,000 documents takes longer per document than loading 1,000. The loader creates no
    reference cycles, so nothing is lost by collecting once afterwards instead.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_documents(text: str | bytes, limits: Limits | None = None) -> LoadResult:
    """Read every document of `text`. Raises `InputRefused` only for oversize or non-UTF-8 input."""
    with _gc_paused():
        return _load_documents(text, limits)


def _load_documents(text: str | bytes, limits: Limits | None) -> LoadResult:
    limits = limits or DEFAULT_LIMITS
    size = len(text) if isinstance(text, bytes | bytearray) else None
    if size is not None and size > limits.max_bytes:
        raise _too_large(size, limits)
    text = _decode(text)
    if size is None and len(text) > limits.max_bytes // 4 and len(text.encode()) > limits.max_bytes:
        raise _too_large(len(text.encode()), limits)
    if "\x00" in text:
        raise InputRefused("input contains NUL bytes: not a text manifest", "not-text")
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        result = _load_json(text, limits)
        if result is not None:
            return result
    return _load_yaml(text, limits)


def _too_large(size: int, limits: Limits) -> InputRefused:
    return InputRefused(
        f"input is {size} bytes, over the limit of {limits.max_bytes} bytes", "too-large"
    )


def _load_yaml(text: str, limits: Limits) -> LoadResult:
    documents: list[Document] = []
    errors: list[InputError] = []
    warnings: list[InputError] = []
    budget = _Budget(limits.max_nodes)
    line_offset = 0
    index = 0
    for chunk in _DOC_START.split(text):
        if not chunk:
            continue
        nth = 0
        try:
            for item in _build_chunk(chunk, limits, budget, track=True):
                if item[0] == "doc":
                    if index >= limits.max_documents:
                        errors.append(
                            InputError(
                                index,
                                line_offset + item[3] + 1,
                                f"more than {limits.max_documents} documents in the input",
                                "too-many-documents",
                            )
                        )
                        return LoadResult(documents, errors, warnings)
                    source = _HELM_SOURCE.search(chunk)
                    documents.append(
                        Document(
                            index=index,
                            data=item[1],
                            line=line_offset + item[3] + 1,
                            source=source.group(1) if source else None,
                            _text=chunk,
                            _line_offset=line_offset,
                            _nth=nth,
                            _lines=item[2] or False,
                        )
                    )
                    nth += 1
                    index += 1
                else:
                    exc = item[1]
                    line = None if exc.line is None else line_offset + exc.line + 1
                    problem = InputError(index, line, str(exc), exc.code)
                    (warnings if item[0] == "warning" else errors).append(problem)
                    if item[0] == "error" and exc.code != "duplicate-key":
                        index += 1  # the abandoned document still takes its index
        except _StreamError as exc:
            line = None if exc.line is None else line_offset + exc.line + 1
            errors.append(InputError(index, line, str(exc), exc.code))
            return LoadResult(documents, errors, warnings)
        line_offset += chunk.count("\n")
    return LoadResult(documents, errors, warnings)


def _load_json(text: str, limits: Limits) -> LoadResult | None:
    """Parse JSON input with `json`; return None to let the YAML path report what is wrong."""
    duplicates: list[tuple[str, bool]] = []  # (key, same value)

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: dict[str, Any] = {}
            for k, v in pairs:
                if k in seen:
                    duplicates.append((k, seen[k] == v and type(seen[k]) is type(v)))
                seen[k] = v
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook, parse_int=_json_int)
    except RecursionError:
        return LoadResult([], [InputError(0, None, "JSON nesting too deep: refused", "too-deep")])
    except NumberTooLong as exc:
        return LoadResult([], [InputError(0, None, str(exc), "bad-scalar")])
    except ValueError:
        return None
    problem = _check_shape(data, limits, surrogates=_SURROGATE_ESCAPE.search(text) is not None)
    if problem is not None:
        return LoadResult([], [InputError(0, 1, problem[0], problem[1])])
    errors: list[InputError] = []
    warnings: list[InputError] = []
    lines = _duplicate_key_lines(text) if duplicates and len(text) <= MIB else {}
    for key, same in duplicates:
        kind, dup = _duplicate(key, 0, 0 if same else 1, 0)
        found_at = lines.get(key)
        line = found_at.pop(0) if found_at else None
        found = InputError(0, line, str(dup), dup.code)
        (warnings if kind == "warning" else errors).append(found)
    document = Document(index=0, data=data, line=1, _text=text, _line_offset=0, _nth=0)
    if len(text) > MIB:  # line lookup re-parses as YAML: only worth it for modest inputs
        document._lines = False
    return LoadResult([document], errors, warnings)


def _duplicate_key_lines(text: str) -> dict[Any, list[int]]:
    """The 1-based lines of the repeated keys in JSON text, by key, in input order. `json`
    reports no positions, but JSON is YAML: the YAML builder, which tracks marks, finds the
    same repeats. Only run when `json` found some; any trouble leaves the lines unknown."""
    lines: dict[Any, list[int]] = {}
    limits = Limits(max_bytes=10**12, max_documents=1, max_nodes=10**9)
    try:
        for item in _build_chunk(text, limits, _Budget(10**9)):
            found = item[1]
            if item[0] != "doc" and found.code.startswith("duplicate-key") and found.line:
                lines.setdefault(found.key, []).append(found.line + 1)
    except Exception:  # line numbers are a courtesy, never a reason to fail
        return {}
    return lines


def _json_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise NumberTooLong(text)
    return int(text)


# A JSON escape of a UTF-16 surrogate: paired ones decode to one character, a lone one to a str
# that cannot be encoded as UTF-8 (every later write of it, the response included, would fail).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_UNICODE = (
    "a JSON string holds a lone UTF-16 surrogate escape (such as \\ud800): not valid Unicode",
    "bad-unicode",
)


def _check_shape(data: Any, limits: Limits, surrogates: bool = False) -> tuple[str, str] | None:
    """Depth and node count of already-parsed JSON, without recursion; with `surrogates`, also
    refuse strings holding a lone surrogate."""
    nodes = 0
    todo: list[tuple[Any, int]] = [(data, 1)]
    lone = _LONE_SURROGATE.search
    while todo:
        value, depth = todo.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            return (f"more than {limits.max_nodes} nodes in the input", "too-many-nodes")
        if surrogates and isinstance(value, str) and lone(value):
            return _BAD_UNICODE
        if isinstance(value, dict):
            if depth > limits.max_depth:
                return (f"nesting deeper than {limits.max_depth} levels refused", "too-deep")
            if surrogates and any(lone(k) for k in value):
                return _BAD_UNICODE
            todo.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            if depth > limits.max_depth:
                return (f"nesting deeper than {limits.max_depth} levels refused", "too-deep")
            todo.extend((v, depth + 1) for v in value)
    return None
