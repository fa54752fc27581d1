"""Per-session state the tools share across batches: files read (with their stamps) and the plan.

The executor owns one ``SessionState`` for the life of a session and hands it to every call, so
``write`` can refuse to replace a file the agent never read, or one that changed on disk since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["FileStamp", "SessionState", "TodoItem", "TodoStatus"]

TodoStatus = Literal["pending", "in_progress", "completed"]


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What a file looked like when a tool last read or wrote it."""

    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        """Return the current stamp of ``path``, or ``None`` when it does not exist."""
        try:
            info = path.stat()
        except OSError:
            return None
        return cls(info.st_mtime_ns, info.st_size)


class TodoItem(BaseModel):
    """One step of the agent's plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str
    status: TodoStatus = "pending"


@dataclass
class SessionState:
    """State that outlives one batch of tool calls."""

    read_files: dict[Path, FileStamp] = field(default_factory=dict)
    """Resolved path -> stamp at the time the agent last saw the file's content."""
    todos: list[TodoItem] = field(default_factory=list)

    def mark_seen(self, path: Path) -> None:
        """Record that the agent saw the current content of ``path`` (after a read or a write)."""
        stamp = FileStamp.of(path)
        if stamp is None:
            self.read_files.pop(path, None)
        else:
            self.read_files[path] = stamp

    def staleness(self, path: Path) -> str | None:
        """Say why replacing ``path`` now would overwrite content the agent has not seen.

        Returns ``None`` when the file does not exist or is unchanged since the agent saw it.
        """
        current = FileStamp.of(path)
        if current is None:
            return None
        seen = self.read_files.get(path)
        if seen is None:
            return f"{path} exists but was not read in this session; read it first"
        if seen != current:
            return f"{path} changed on disk since it was last read; read it again first"
        return None
