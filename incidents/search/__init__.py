"""The search interface. Pages, the API and chat call only these functions.

(Placeholder until the search backends land: indexing hooks are no-ops.)
"""

from __future__ import annotations

from collections.abc import Iterable


def index_stories_on_commit(story_ids: Iterable[int]) -> None:
    """Schedule (re)indexing of these stories once the current transaction commits."""


def remove_stories_on_commit(story_ids: Iterable[int]) -> None:
    """Schedule removal of these stories from the index once the current transaction commits."""
