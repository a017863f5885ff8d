"""From pasted operational text to a search query: the tokens that identify a failure.

Input is an error message, `kubectl describe` or `kubectl get events` output, a log excerpt or
k8sgpt's JSON. Most of it is boilerplate (field names, pod names, hashes, IPs, timestamps); what
identifies a failure is a handful of tokens: event reasons (OOMKilled, FailedScheduling,
CrashLoopBackOff), error codes (NXDOMAIN, EMFILE, 502), technology names and aliases, and a few
rarer content words. We keep those, in that order, and hand them to the normal search as words,
so ranking, alias expansion and highlighting stay the same as for typed queries.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable

from incidents.search.query import STOPWORDS, alias_table, words

MAX_MATCH_CHARS = 20_000
MAX_TOKENS = 14
MAX_CONTENT_WORDS = 6

_REASON_RE = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][A-Za-z0-9]*)+\b")  # OOMKilled, FailedScheduling
_LEADING_CAPS_RE = re.compile(r"\b(?:OOM|DNS|TLS|IP|CNI)[A-Z][a-z]+[A-Za-z]*\b")  # OOMKilled
_CODE_RE = re.compile(r"\b(?:E[A-Z]{3,}|NX[A-Z]+|SERVFAIL|REFUSED|SIGTERM|SIGKILL)\b")
_HTTP_RE = re.compile(r"\b(5\d\d)\b")
_EXIT_RE = re.compile(r"exit(?:ed)?(?: with)?(?: code|status)?[ :=]*(\d{1,3})", re.IGNORECASE)
_NOISY_RE = re.compile(r"^(?:[0-9a-f]{6,}|\d+[a-z]+\d\w*|[a-z]+\d+[a-z\d]*)$")

# Words every describe/events/log excerpt contains whatever went wrong.
BOILERPLATE = frozenset(
    re.split(
        r"\s+",
        """
        name namespace priority service account node start time labels annotations status
        running ip ips controlled containers container id image port host ports state started
        ready restart count limits requests environment mounts conditions type true false
        volumes qos class burstable besteffort guaranteed tolerations events reason age message
        normal warning default kubelet pod pods kubectl describe get last exit code terminated
        waiting seconds minutes hours ago successfully assigned pulled pulling created scheduled
        unknown none nodes available initialized containersready podscheduled mount path token
        projected kube api access volume readonly source secret configmap optional sec effect
        noexecute notready unreachable apps replicaset deployment pending error errors failed
        failure kind spec metadata value values object field level info debug warn log logs
        timestamp date utc json details analysis results problems provider problem text
        sensitive parent results
        """.strip(),
    )
)


def _strings(data, budget: int = MAX_MATCH_CHARS) -> list[str]:
    """The string values of decoded JSON, in document order, until `budget` characters.

    Walked with an explicit stack: pasted JSON may be nested as deep as the decoder allows, and
    recursing here on top of the request's own frames would run out of stack.
    """
    out: list[str] = []
    todo = [data]
    while todo and budget > 0:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
            budget -= len(item)
        elif isinstance(item, dict):
            todo.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            todo.extend(reversed(item))
    return out


def _flatten_json(text: str) -> str:
    """k8sgpt-style JSON becomes its string values; anything else (including JSON nested deeper
    than the decoder's recursion limit, e.g. 10,000 `[`) is matched as the plain text it is."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return text
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return text
    return "\n".join(_strings(data))


def extract_tokens(text: str, df: Callable[[str], int] | None = None) -> list[str]:
    """The identifying tokens of `text`, most significant first (at most MAX_TOKENS)."""
    text = _flatten_json((text or "")[:MAX_MATCH_CHARS])
    picked: dict[str, None] = {}

    def add(token: str) -> None:
        key = " ".join(words(token))
        if len(picked) < MAX_TOKENS and key and key not in seen:
            seen.add(key)
            picked.setdefault(token, None)

    seen: set[str] = set()

    for m in _EXIT_RE.finditer(text):
        if m.group(1) in {"137", "143", "139", "1", "127", "126"}:
            add(f"exit code {m.group(1)}")
    for regex in (_LEADING_CAPS_RE, _REASON_RE, _CODE_RE):
        for m in regex.finditer(text):
            add(m.group())
    for m in _HTTP_RE.finditer(text):
        add(m.group(1))
    seq = words(text)
    # Technology names and aliases (longest first), e.g. "conntrack", "no free ip addresses"
    # (not the vocabulary's general term sets: "timeout" or "cluster" identify nothing).
    table = alias_table()
    longest = max((len(k) for k in table), default=0)
    i = 0
    while i < len(seq):
        for n in range(min(longest, len(seq) - i), 0, -1):
            key = tuple(seq[i : i + n])
            if key in table and table[key][0] and not (n == 1 and key[0] in BOILERPLATE):
                add(" ".join(key))
                i += n
                break
        else:
            i += 1
    # A few content words: frequent in the text, rare in the stories.
    counts = Counter(
        w
        for w in seq
        if len(w) > 3
        and w.isascii()
        and w not in STOPWORDS
        and w not in BOILERPLATE
        and not w.isdigit()
        and not _NOISY_RE.match(w)
    )
    already = {w for token in picked for w in words(token)}
    candidates = [w for w, _ in counts.most_common(40) if w not in already]
    if df is not None:
        known = [(df(w), -counts[w], w) for w in candidates]
        candidates = [w for n, _, w in sorted(known) if n > 0]
    for w in candidates[:MAX_CONTENT_WORDS]:
        add(w)
    return list(picked)


def extract_query(text: str, df: Callable[[str], int] | None = None) -> str:
    """A query string for search() built from the tokens (multi-word tokens stay adjacent, so
    alias phrases like "exit code 137" are recognised; they are not quoted, so not required)."""
    return " ".join(extract_tokens(text, df))
