"""The session store under ``.arcan/``: append-only logs, the lock, the index, replay.

paths = ProjectPaths(project_dir)
writer = SessionWriter.create(paths, header)      # or SessionWriter.open_existing(paths, id)
writer.append(event); writer.sync(); writer.close()
loaded = load_session(paths.session_log(id))      # header, events, dropped_bytes, warnings
state = rebuild(loaded.header, loaded.events)     # the conversation, model, mode, usage…
list_sessions(project_dir); latest_session(project_dir); resolve_session_id(project_dir, "2026")
"""

from arcan_core.store.ids import is_session_id, new_session_id
from arcan_core.store.index import (
    SessionSummary,
    latest_session,
    list_sessions,
    read_summary,
    resolve_session_id,
)
from arcan_core.store.layout import ProjectPaths
from arcan_core.store.lock import SessionLock
from arcan_core.store.log import SessionWriter
from arcan_core.store.reader import LoadedSession, load_session
from arcan_core.store.replay import SessionState, rebuild

__all__ = [
    "LoadedSession",
    "ProjectPaths",
    "SessionLock",
    "SessionState",
    "SessionSummary",
    "SessionWriter",
    "is_session_id",
    "latest_session",
    "list_sessions",
    "load_session",
    "new_session_id",
    "read_summary",
    "rebuild",
    "resolve_session_id",
]
