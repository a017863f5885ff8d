"""Turn the JSON Patches of mechanical fixes into edits of the manifest text.

    finding_edits(text, document, finding)  # the line edits of one finding's patch
    print(unified_diff(inputs, report))     # what `kbcheck --fix-diff` prints

A JSON Patch says what to change in the object; a user wants their file changed, comments and
layout kept. So each operation becomes an edit of whole lines found through the parser's line
tree: `replace` rewrites the value of a one-line `key: value`, `remove` deletes such a line
(and a parent left empty), `add` inserts `key: value` at the end of a block mapping, indented
like its siblings. An operation that cannot be done that safely (flow style `{a: 1}`, a value
spread over lines, a document that moved) is left out of the diff; the finding still carries
its patch for `kubectl patch --type json`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from incidents.rules.findings import Finding, Report
from incidents.rules.parsing import Document

_KEY_LINE = (
    r"^(?P<lead>\s*(?:-\s+)?)(?P<key>{key}|\"{key}\"|'{key}')\s*:"
    r"(?P<gap>\s*)(?P<value>[^#\n]*?)(?P<tail>\s*(?:#.*)?)$"
)
_PLAIN = re.compile(r"^[A-Za-z0-9_./-]+$")


def _tokens(pointer: str) -> list[str | int]:
    parts = pointer.lstrip("/").split("/") if pointer.strip("/") else []
    out: list[str | int] = []
    for part in parts:
        part = part.replace("~1", "/").replace("~0", "~")
        out.append(int(part) if part.isdigit() else part)
    return out


def _dotted(tokens: Sequence[str | int]) -> str:
    path = ""
    for token in tokens:
        path += f"[{token}]" if isinstance(token, int) else (f".{token}" if path else token)
    return path


def _get(data: Any, tokens: Sequence[str | int]) -> tuple[bool, Any]:
    for token in tokens:
        if (isinstance(token, int) and isinstance(data, list) and 0 <= token < len(data)) or (
            isinstance(token, str) and isinstance(data, dict) and token in data
        ):
            data = data[token]
        else:
            return False, None
    return True, data


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _PLAIN.match(text):
        try:
            if yaml.safe_load(text) == text:
                return text  # reads back as the same string: no quotes needed
        except yaml.YAMLError:
            pass
    return json.dumps(text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_column(line: str) -> int:
    """Column where the key of `line` starts (after `- ` for a list item)."""
    match = re.match(r"^(\s*(?:-\s+)*)", line)
    return len(match.group(1)) if match else 0


class _Editor:
    """Line edits of one file: (first line index, lines removed, new lines)."""

    def __init__(self, text: str):
        self.lines = text.splitlines(keepends=True)
        self.edits: dict[int, tuple[int, list[str]]] = {}

    def replace(self, doc: Document, tokens, value) -> bool:
        line_no = doc.line_of(_dotted(tokens))
        if line_no is None or line_no - 1 in self.edits:
            return False
        index = line_no - 1
        pattern = re.compile(_KEY_LINE.format(key=re.escape(str(tokens[-1]))))
        match = pattern.match(self.lines[index].rstrip("\r\n"))
        if not match or not match.group("value").strip():
            return False
        ending = self.lines[index][len(self.lines[index].rstrip("\r\n")) :]
        new = f"{match.group('lead')}{match.group('key')}:{match.group('gap') or ' '}"
        self.edits[index] = (1, [new + _scalar(value) + match.group("tail") + ending])
        return True

    def remove(self, doc: Document, tokens) -> bool:
        exists, parent = _get(doc.data, tokens[:-1])
        alone = exists and isinstance(parent, dict) and len(parent) == 1
        if alone and len(tokens) > 1 and isinstance(tokens[-2], str):
            return self.remove(doc, tokens[:-1])  # leave no empty mapping behind
        line_no = doc.line_of(_dotted(tokens))
        if line_no is None or line_no - 1 in self.edits:
            return False
        index = line_no - 1
        pattern = re.compile(_KEY_LINE.format(key=re.escape(str(tokens[-1]))))
        match = pattern.match(self.lines[index].rstrip("\r\n"))
        if not match or not match.group("value").strip() or "-" in match.group("lead"):
            return False
        self.edits[index] = (1, [])
        return True

    def add(self, doc: Document, tokens, value) -> bool:
        if not isinstance(tokens[-1], str) or isinstance(value, list):
            return False
        if isinstance(value, dict) and (
            not value or any(isinstance(v, dict | list) for v in value.values())
        ):
            return False  # one level of scalars is enough for the fixes we write
        exists, parent = _get(doc.data, tokens[:-1])
        if not exists or not isinstance(parent, dict) or not parent:
            return False
        parent_line = doc.line_of(_dotted(tokens[:-1])) if tokens[:-1] else None
        child_lines = [doc.line_of(_dotted([*tokens[:-1], key])) for key in parent]
        if None in child_lines:
            return False
        first = min(child_lines) - 1
        column = _key_column(self.lines[first])
        if parent_line is not None and first == parent_line - 1:
            starts_item = self.lines[first].lstrip().startswith("-")
            if not starts_item:
                return False  # `parent: {a: 1}`: flow style, not edited
        if "{" in self.lines[first][:column]:
            return False
        end = max(child_lines) - 1
        index = end + 1
        while index < len(self.lines):
            text = self.lines[index]
            stripped = text.strip()
            if stripped and not stripped.startswith("#") and _indent(text) < column:
                break
            if stripped.startswith("---"):
                break
            index += 1
        while index - 1 > end and not self.lines[index - 1].strip():
            index -= 1  # keep blank lines after the block where they were
        if index in self.edits:
            return False
        newline = "\r\n" if self.lines[first].endswith("\r\n") else "\n"
        pad = " " * column
        if isinstance(value, dict):
            new = [f"{pad}{tokens[-1]}:{newline}"]
            new += [f"{pad}  {k}: {_scalar(v)}{newline}" for k, v in value.items()]
        else:
            new = [f"{pad}{tokens[-1]}: {_scalar(value)}{newline}"]
        self.edits[index] = (0, new)
        return True


Edit = tuple[int, int, tuple[str, ...]]  # (0-based first line, lines removed, new lines)


def finding_edits(text: str, document: Document, finding: Finding) -> tuple[Edit, ...]:
    """The line edits that apply `finding.patch` to `text` (the whole input), or ()."""
    editor = _Editor(text)
    base = _tokens("/" + finding.prefix.replace("[", "/").replace("]", "").replace(".", "/"))
    for op in finding.patch:
        tokens = [*base, *_tokens(str(op.get("path", "")))]
        if not tokens:
            return ()
        kind = op.get("op")
        exists, _ = _get(document.data, tokens)
        if kind == "replace" or (kind == "add" and exists):
            done = editor.replace(document, tokens, op.get("value"))
        elif kind == "add":
            done = editor.add(document, tokens, op.get("value"))
        else:
            done = kind == "remove" and exists and editor.remove(document, tokens)
        if not done:
            return ()  # all of the patch or nothing
    return tuple((i, removed, tuple(new)) for i, (removed, new) in sorted(editor.edits.items()))


def apply_edits(text: str, edits: Iterable[Edit]) -> list[str]:
    """`text` as lines with `edits` applied; an edit overlapping an earlier one is left out."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    chosen: dict[int, Edit] = {}
    taken: set[int] = set()
    for edit in sorted(set(edits)):
        span = set(range(edit[0], edit[0] + max(edit[1], 1)))
        if span & taken:
            continue
        taken |= span
        chosen[edit[0]] = edit
    for index in sorted(chosen, reverse=True):
        _, removed, new = chosen[index]
        lines[index : index + removed] = list(new)
    return lines


def unified_diff(inputs: Sequence[tuple[str | None, str | bytes]], report: Report) -> str:
    """A unified diff (`git apply`, `patch -p1`) of every input with its mechanical fixes."""
    by_file: dict[str | None, list[Edit]] = {}
    for finding in report.findings:
        if finding.edits:
            by_file.setdefault(finding.file, []).extend(finding.edits)
    out: list[str] = []
    for name, data in inputs:
        edits = by_file.get(name)
        if not edits:
            continue
        text = data.decode("utf-8-sig", "replace") if isinstance(data, bytes) else data
        label = (name or "stdin").lstrip("/")
        old = text.splitlines(keepends=True)
        if old and not old[-1].endswith("\n"):
            old[-1] += "\n"
        out.extend(difflib.unified_diff(old, apply_edits(text, edits), f"a/{label}", f"b/{label}"))
    return "".join(out)
