"""Prompt history per project: a JSON-lines file under the user's state directory.

Shared by the TUI and the line-mode front-end. Each project (by absolute path) has its own file,
so up-arrow recalls what was typed *here*, not in another repository. The file lives outside the
project so it is never committed by accident. A prompt is a place users paste keys into, so each
entry is scrubbed with the session log's ``Redactor`` before it is kept, and the file is private
(0600, in a 0700 directory).

Public API:
    ``PromptHistory.for_project(project_dir)`` opens (lazily) the history of a project;
    ``entries`` lists prompts oldest first; ``append(text)`` records one;
    ``navigator()`` returns a ``HistoryNavigator`` for up/down walking with a kept draft.

Nothing is read, hashed or imported for it until it is used: the TUI opens the history and hands
a navigator to the prompt before its first frame, and the file is read on the first Up.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["HistoryNavigator", "PromptHistory", "history_dir"]

DEFAULT_LIMIT = 1000
"""How many prompts a project keeps; older ones are dropped when the file is rewritten."""


def history_dir() -> Path:
    """Return the directory holding every project's history (``$XDG_STATE_HOME/arcan/history``)."""
    from platformdirs import user_state_path  # noqa: PLC0415 - only when history is used

    return user_state_path("arcan") / "history"


class PromptHistory:
    """The prompts typed in one project, oldest first."""

    def __init__(self, path: Path | Callable[[], Path], *, limit: int = DEFAULT_LIMIT) -> None:
        """Open the history file ``path``, or the one ``path()`` names when first needed."""
        self._where = path
        self.limit = limit
        self._entries: list[str] | None = None
        self._scrub: Callable[[str], str] | None = None

    @classmethod
    def for_project(cls, project_dir: Path, *, root: Path | None = None) -> PromptHistory:
        """Open the history of ``project_dir``; ``root`` overrides the storage directory."""

        def locate() -> Path:
            import hashlib  # noqa: PLC0415 - its OpenSSL start-up is 1-2 ms, kept off start-up

            key = hashlib.sha256(str(project_dir.resolve()).encode()).hexdigest()[:16]
            return (root or history_dir()) / f"{key}.jsonl"

        return cls(locate)

    @property
    def path(self) -> Path:
        """The history file."""
        if callable(self._where):
            self._where = self._where()
        return self._where

    @property
    def entries(self) -> tuple[str, ...]:
        """Every remembered prompt, oldest first (read from disk on first use)."""
        if self._entries is None:
            self._entries = self._read()
        return tuple(self._entries)

    def _read(self) -> list[str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries: list[str] = []
        for line in lines:
            # A torn last line (a crash mid-write) is skipped rather than failing the session.
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, str):
                entries.append(value)
        return entries[-self.limit :]

    def _scrubbed(self, text: str) -> str:
        if self._scrub is None:
            # Imported on first append, not at paint: the redactor compiles a pattern.
            from arcan_core.config.secrets import Redactor  # noqa: PLC0415

            self._scrub = Redactor()
        return self._scrub(text)

    def _open(self, path: Path, flags: int) -> int:
        """Open ``path`` for writing, created 0600 and tightened if an older arcan made it 0644."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, 0o600)
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        return fd

    def append(self, text: str) -> None:
        """Remember ``text`` with secrets scrubbed (blank prompts and repeats are not stored)."""
        if not text.strip():
            return
        text = self._scrubbed(text)
        entries = self._entries if self._entries is not None else self._read()
        self._entries = entries
        if entries and entries[-1] == text:
            return
        entries.append(text)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if len(entries) > self.limit * 2:
            # Rewrite rarely: appends stay O(1) and the file stays bounded.
            del entries[: len(entries) - self.limit]
            tmp = self.path.with_suffix(".tmp")
            with os.fdopen(self._open(tmp, os.O_TRUNC), "w", encoding="utf-8") as handle:
                handle.write("".join(json.dumps(e) + "\n" for e in entries))
            tmp.replace(self.path)
            return
        with os.fdopen(self._open(self.path, os.O_APPEND), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(text) + "\n")

    def navigator(self) -> HistoryNavigator:
        """Return a fresh up/down walker over the entries as they are when it is first walked."""
        return HistoryNavigator(lambda: self.entries)


class HistoryNavigator:
    """Walks history with up/down, keeping the unsent draft to come back to."""

    def __init__(self, entries: tuple[str, ...] | Callable[[], tuple[str, ...]]) -> None:
        """Walk ``entries``, or what ``entries()`` returns on the first step."""
        self._source = entries
        self._loaded: tuple[str, ...] | None = None
        self._index = 0
        self._draft = ""

    @property
    def _entries(self) -> tuple[str, ...]:
        if self._loaded is None:
            source = self._source
            self._loaded = source if isinstance(source, tuple) else source()
            self._index = len(self._loaded)
        return self._loaded

    def older(self, current: str) -> str | None:
        """Return the previous prompt, or ``None`` at the oldest; saves ``current`` as the draft."""
        entries = self._entries
        if self._index == 0:
            return None
        if self._index == len(entries):
            self._draft = current
        self._index -= 1
        return entries[self._index]

    def newer(self) -> str | None:
        """Return the next prompt, the draft after the newest, or ``None`` if already there."""
        entries = self._entries
        if self._index >= len(entries):
            return None
        self._index += 1
        if self._index == len(entries):
            return self._draft
        return entries[self._index]
