"""Did-you-mean candidates: a symmetric-delete index over known words (Whoosh's indexed words,
the vocabulary's own).

For each known word we store its one-character deletions; a typed word's deletions are looked up
in the same table, which finds every known word within one insertion, deletion, substitution or
adjacent transposition (and some at distance two) in a few dictionary lookups. Candidates are
verified with an optimal-string-alignment distance and ranked by distance then frequency.
"""

from __future__ import annotations

from collections.abc import Iterable


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance, short-circuited above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    MIN_LEN = 4  # shorter words have too many neighbours to guess from

    def __init__(self, words: Iterable[tuple[str, int]]) -> None:
        self.freq: dict[str, int] = {}
        for word, n in words:
            if not word.isalpha() or len(word) < self.MIN_LEN - 1:
                continue
            self.freq[word] = self.freq.get(word, 0) + n
        index: dict[str, list[str]] = {}
        for word in self.freq:
            for key in _deletes(word) | {word}:
                index.setdefault(key, []).append(word)
        # Tuples, which the garbage collector stops tracking: a list per key (hundreds of
        # thousands at 10,000 stories) was walked by every full collection.
        self.index: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in index.items()}

    def known(self, word: str) -> bool:
        return word in self.freq

    def candidates(self, word: str) -> dict[str, int]:
        """Known words within two edits of `word` -> their frequency."""
        if len(word) < self.MIN_LEN or not word.isalpha() or word in self.freq:
            return {}
        near: set[str] = set()
        for key in _deletes(word) | {word}:
            near.update(self.index.get(key, ()))
        return {cand: self.freq[cand] for cand in near if distance(word, cand) <= 2}

    def correct(self, word: str) -> str | None:
        """The nearest known word (fewest edits, then most frequent), or None."""
        ranked = sorted((distance(word, c), -n, c) for c, n in self.candidates(word).items())
        return ranked[0][2] if ranked else None
