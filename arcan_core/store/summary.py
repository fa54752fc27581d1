"""Session summaries and their sidecar files: light enough to list sessions without pydantic.

``arcan sessions`` and the TUI's session picker read only these small JSON files, so this module
imports nothing heavier than ``json`` and ``datetime``; the models of the protocol load only when
a sidecar is missing or stale and a log has to be scanned (see ``index``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["TITLE_LENGTH", "SessionMeta", "SessionSummary", "title_from_prompt", "write_meta"]

TITLE_LENGTH = 72
META_VERSION = 1
_T = TypeVar("_T")


@dataclass(frozen=True)
class SessionSummary:
    """One row of ``arcan sessions``: what a listing shows of a session."""

    id: str
    title: str
    created: datetime
    updated: datetime
    turns: int
    model: str
    provider: str

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (times in ISO 8601)."""
        data = {field.name: getattr(self, field.name) for field in fields(SessionSummary)}
        data["created"] = self.created.isoformat()
        data["updated"] = self.updated.isoformat()
        return data


@dataclass(frozen=True)
class SessionMeta(SessionSummary):
    """The sidecar ``<id>.meta.json``: a summary plus the size of the log it describes."""

    size: int
    v: int = META_VERSION

    def summary(self) -> SessionSummary:
        """Return the summary alone (what listings show)."""
        return SessionSummary(
            **{field.name: getattr(self, field.name) for field in fields(SessionSummary)}
        )

    def dumps(self) -> str:
        """Serialize for the sidecar file."""
        data = asdict(self)
        data["created"] = self.created.isoformat()
        data["updated"] = self.updated.isoformat()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: bytes) -> SessionMeta:
        """Parse a sidecar; raise ``ValueError`` when it is garbled or of another version."""
        try:
            data = json.loads(raw)
            meta = cls(
                id=_typed(data["id"], str),
                title=_typed(data["title"], str),
                created=_aware(data["created"]),
                updated=_aware(data["updated"]),
                turns=_typed(data["turns"], int),
                model=_typed(data["model"], str),
                provider=_typed(data["provider"], str),
                size=_typed(data["size"], int),
                v=_typed(data["v"], int),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a session sidecar: {error}") from None
        if meta.v != META_VERSION:
            raise ValueError(f"sidecar version {meta.v}")
        return meta


def _typed(value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value


def _aware(value: object) -> datetime:
    moment = datetime.fromisoformat(_typed(value, str))
    if moment.tzinfo is None:
        raise TypeError("naive time")
    return moment


def title_from_prompt(prompt: str) -> str:
    """Return a one-line title from a prompt: its first non-empty line, shortened."""
    for line in prompt.splitlines():
        text = " ".join(line.split())
        if text:
            return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"
    return ""


def write_meta(path: Path, meta: SessionMeta) -> None:
    """Replace the sidecar at ``path`` atomically (a reader sees the old one or the new one).

    It is not fsynced: after a power cut it may be stale or empty, and the listing then falls back
    to scanning the log, which is the truth.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    # 0600 like the log: the title is the user's first prompt.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)  # a stale temp file keeps its old mode through O_TRUNC
        file.write(meta.dumps())
    tmp.replace(path)
