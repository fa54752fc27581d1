"""Prompt completion: the ``Completion`` value, the ``Completer`` protocol, ``@path`` completion.

Completers look only at the text before the cursor and return candidates; the prompt widget shows
them. No Textual import here, so completers are tested as plain functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from arcan_tui.path_index import fuzzy_rank

__all__ = ["Completer", "Completion", "PathCompleter"]


@dataclass(frozen=True)
class Completion:
    """Candidates for the word that starts at column ``start`` of the cursor's line."""

    start: int
    options: tuple[tuple[str, str], ...]
    """``(value, description)`` pairs, best first."""


class Completer(Protocol):
    """Something that completes the text before the cursor (slash commands, paths)."""

    def complete(self, before_cursor: str, *, first_line: bool) -> Completion | None:
        """Return candidates for the text before the cursor, or ``None``."""


class PathCompleter:
    """Completes ``@query`` with project files, fuzzily; the file list is set once it is scanned."""

    def __init__(self, paths: list[str] | None = None, *, limit: int = 10) -> None:
        self.paths = paths or []
        self.limit = limit

    def complete(self, before_cursor: str, *, first_line: bool) -> Completion | None:
        """Offer files for the ``@word`` that ends at the cursor."""
        del first_line
        at = before_cursor.rfind("@")
        if at < 0 or (at > 0 and not before_cursor[at - 1].isspace()):
            return None
        query = before_cursor[at + 1 :]
        if any(char.isspace() for char in query) or not self.paths:
            return None
        matches = fuzzy_rank(query, self.paths, limit=self.limit)
        return Completion(at, tuple((f"@{path}", "") for path in matches)) if matches else None
