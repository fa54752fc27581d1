"""Listing a project's sessions fast, without parsing whole logs.

The writer keeps a small sidecar ``<id>.meta.json`` (a ``SessionMeta``) beside each log, rewritten
atomically (temporary file + rename) at every sync and at close. It records the log's size; a
sidecar whose size matches the log is current and is all the listing reads, with plain ``json``
(this module does not import pydantic, so ``arcan sessions`` starts fast). A missing, garbled or
stale sidecar (a crash, a live session mid-turn) falls back to ``tracker.scan_log``: the header
line and the few lines that carry turns, title, model and the last timestamp. No sidecar is written
by a reader, so listing never races a writer.
"""

from __future__ import annotations

import os
from pathlib import Path

from arcan_core.errors import SessionNotFoundError, StoreError
from arcan_core.store.layout import ProjectPaths
from arcan_core.store.summary import SessionMeta, SessionSummary, title_from_prompt

__all__ = [
    "SessionMeta",
    "SessionSummary",
    "latest_session",
    "list_sessions",
    "read_summary",
    "resolve_session_id",
    "title_from_prompt",
]

_LOG_SUFFIX = ".jsonl"


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
        meta: SessionMeta | None = SessionMeta.loads(paths.session_meta(session_id).read_bytes())
    except (OSError, ValueError):
        meta = None
    if meta is not None and meta.size == size and meta.id == session_id:
        return meta.summary()
    # Only now are the protocol models needed.
    from arcan_core.store.reader import UnreadableRecordError  # noqa: PLC0415
    from arcan_core.store.tracker import scan_log  # noqa: PLC0415

    try:
        return scan_log(log.read_bytes()).summary()
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
