"""Listing a project's sessions fast, without parsing whole logs.

The writer keeps a small sidecar ``<id>.meta.json`` (a ``SessionMeta``) beside each log, rewritten
atomically (temporary file + rename) at every sync and at close. It records the log's size; a
sidecar whose size matches the log is current and is all the listing reads. A missing, garbled or
stale sidecar (a crash, a live session mid-turn) falls back to a scan of the raw bytes: the header
line, a byte count of turn-start records, and the few lines that carry the title, the model and the
last timestamp. No sidecar is written by a reader, so listing never races a writer.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime  # noqa: TC003 - pydantic resolves the annotation at run time
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from arcan_core.errors import SessionNotFoundError, StoreError
from arcan_core.protocol.events import Event, ModelChanged, TurnStarted
from arcan_core.protocol.records import SessionHeader  # noqa: TC001 - used at run time
from arcan_core.store.layout import ProjectPaths
from arcan_core.store.reader import UnreadableRecordError, parse_event_line, parse_header_line

__all__ = [
    "SessionMeta",
    "SessionSummary",
    "SummaryTracker",
    "latest_session",
    "list_sessions",
    "read_summary",
    "resolve_session_id",
    "title_from_prompt",
]

TITLE_LENGTH = 72
_LOG_SUFFIX = ".jsonl"
_MARKS = (b'"type":"turn_started"', b'"type":"model_changed"')
"""Byte patterns of the records that change a summary (JSON escapes quotes inside strings)."""


class SessionSummary(BaseModel):
    """One row of ``arcan sessions``."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    created: AwareDatetime
    updated: AwareDatetime
    turns: int
    model: str
    provider: str


class SessionMeta(SessionSummary):
    """The sidecar: a summary plus the log size it describes."""

    v: int = 1
    size: int

    def summary(self) -> SessionSummary:
        """Return the summary alone (what listings show)."""
        return SessionSummary.model_construct(
            **{name: getattr(self, name) for name in SessionSummary.model_fields}
        )


def title_from_prompt(prompt: str) -> str:
    """Return a one-line title from a prompt: its first non-empty line, shortened."""
    for line in prompt.splitlines():
        text = " ".join(line.split())
        if text:
            return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"
    return ""


class SummaryTracker:
    """The running summary of a session, updated event by event (the writer keeps one)."""

    def __init__(self, header: SessionHeader) -> None:
        self.id = header.session_id
        self.title = header.title
        self.created: datetime = header.created
        self.updated: datetime = header.created
        self.turns = 0
        self.model = header.model
        self.provider = header.provider

    def observe(self, event: Event) -> None:
        """Fold one event into the summary (a sub-agent's events count only as activity)."""
        self.updated = max(self.updated, event.ts)
        if event.parent_call_id is not None:
            return
        msg = event.msg
        if isinstance(msg, TurnStarted):
            self.turns += 1
            if not self.title:
                self.title = title_from_prompt(msg.prompt)
        elif isinstance(msg, ModelChanged):
            self.model, self.provider = msg.model, msg.provider

    def meta(self, size: int) -> SessionMeta:
        """Return the sidecar for a log of ``size`` bytes."""
        return SessionMeta(
            id=self.id,
            title=self.title,
            created=self.created,
            updated=self.updated,
            turns=self.turns,
            model=self.model,
            provider=self.provider,
            size=size,
        )


def write_meta(path: Path, meta: SessionMeta) -> None:
    """Replace the sidecar at ``path`` atomically (a reader sees the old one or the new one).

    It is not fsynced: after a power cut it may be stale or empty, and the listing then falls back
    to scanning the log, which is the truth.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(meta.model_dump_json(), encoding="utf-8")
    tmp.replace(path)


def _marked_lines(data: bytes, marks: tuple[bytes, ...]) -> list[bytes]:
    """The lines (after the header) that contain any of ``marks``, in file order."""
    spans: set[tuple[int, int]] = set()
    for mark in marks:
        at = data.find(mark)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            if start > 0:
                spans.add((start, end))
            at = data.find(mark, end)
    return [data[start:end] for start, end in sorted(spans)]


def _scan(data: bytes, size: int) -> SessionMeta:
    """Summarize a log from its raw bytes, parsing only the lines that can change the summary.

    A byte search finds the candidate lines (turn starts, model changes); each is parsed, so text
    that merely looks like such a record (inside a tool's input, say) is not miscounted.
    """
    first_end = data.find(b"\n")
    header = parse_header_line(data if first_end < 0 else data[:first_end])
    tracker = SummaryTracker(header)
    for line in _marked_lines(data, _MARKS):
        with contextlib.suppress(UnreadableRecordError):
            tracker.observe(parse_event_line(line))
    # The last complete line gives the last timestamp; a cut tail is skipped.
    if first_end >= 0:
        for line in reversed(data[first_end + 1 :].rstrip(b"\n").rsplit(b"\n", 2)):
            with contextlib.suppress(UnreadableRecordError):
                tracker.updated = max(tracker.updated, parse_event_line(line).ts)
                break
    return tracker.meta(size)


def read_summary(paths: ProjectPaths, session_id: str) -> SessionSummary:
    """Return the summary of one session: its sidecar when current, else a scan of its log.

    Raises:
        SessionNotFoundError: no such log.
        StoreError: the log has no valid header.
    """
    log = paths.session_log(session_id)
    try:
        size = log.stat().st_size
    except FileNotFoundError:
        raise SessionNotFoundError(f"no session {session_id} in {paths.project_dir}") from None
    return _summary(paths, session_id, log, size)


def _summary(paths: ProjectPaths, session_id: str, log: Path, size: int) -> SessionSummary:
    try:
        meta = SessionMeta.model_validate_json(paths.session_meta(session_id).read_bytes())
    except (OSError, ValidationError):
        meta = None
    if meta is not None and meta.size == size:
        return meta.summary()
    try:
        data = log.read_bytes()
        return _scan(data, len(data)).summary()
    except UnreadableRecordError as error:
        raise StoreError(f"{log} does not start with a session header ({error})") from None


def list_sessions(project_dir: Path) -> list[SessionSummary]:
    """Return the sessions of ``project_dir``, most recently updated first.

    A log that cannot be summarized (no valid header) is left out rather than failing the list.
    """
    paths = ProjectPaths(project_dir)
    try:
        entries = list(os.scandir(paths.sessions_dir))
    except FileNotFoundError:
        return []
    summaries: list[SessionSummary] = []
    for entry in entries:
        if not entry.name.endswith(_LOG_SUFFIX) or entry.name.startswith("."):
            continue
        session_id = entry.name[: -len(_LOG_SUFFIX)]
        try:
            size = entry.stat().st_size
            summaries.append(_summary(paths, session_id, Path(entry.path), size))
        except (OSError, StoreError):
            continue
    summaries.sort(key=lambda summary: (summary.updated, summary.id), reverse=True)
    return summaries


def latest_session(project_dir: Path) -> str | None:
    """Return the id of the most recently updated session, or ``None`` when there is none."""
    sessions = list_sessions(project_dir)
    return sessions[0].id if sessions else None


def resolve_session_id(project_dir: Path, prefix: str) -> str:
    """Return the session whose id is ``prefix`` or uniquely starts with it.

    Raises:
        SessionNotFoundError: no session matches, or several do.
    """
    paths = ProjectPaths(project_dir)
    try:
        names = [
            name[: -len(_LOG_SUFFIX)]
            for name in os.listdir(paths.sessions_dir)  # noqa: PTH208 - names only, fast
            if name.endswith(_LOG_SUFFIX) and not name.startswith(".")
        ]
    except FileNotFoundError:
        names = []
    if prefix in names:
        return prefix
    matches = sorted(name for name in names if prefix and name.startswith(prefix))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SessionNotFoundError(
            f"no session {prefix!r} in {paths.project_dir}",
            hint="`arcan sessions` lists this project's sessions",
        )
    shown = ", ".join(matches[:3]) + (", …" if len(matches) > 3 else "")
    raise SessionNotFoundError(
        f"{prefix!r} matches {len(matches)} sessions: {shown}",
        hint="give more characters of the id",
    )
