"""The session store under ``.arcan/``: append-only logs, the lock, the index, replay.

    paths = ProjectPaths(project_dir)
    writer = SessionWriter.create(paths, header)      # or SessionWriter.open_existing(paths, id)
    writer.append(event); writer.sync(); writer.close()
    loaded = load_session(paths.session_log(id))      # header, events, dropped_bytes, warnings
    state = rebuild(loaded.header, loaded.events)     # the conversation, model, mode, usage…
    list_sessions(project_dir); latest_session(project_dir); resolve_session_id(project_dir, "2026")

Names load lazily (PEP 562): ``from arcan_core.store import list_sessions`` imports the listing
alone, without the protocol models, so ``arcan sessions`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arcan_core.store.ids import is_session_id, new_session_id
    from arcan_core.store.index import (
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
    from arcan_core.store.summary import SessionSummary

_WHERE = {
    "is_session_id": "ids",
    "new_session_id": "ids",
    "latest_session": "index",
    "list_sessions": "index",
    "read_summary": "index",
    "resolve_session_id": "index",
    "ProjectPaths": "layout",
    "SessionLock": "lock",
    "SessionWriter": "log",
    "LoadedSession": "reader",
    "load_session": "reader",
    "SessionState": "replay",
    "rebuild": "replay",
    "SessionSummary": "summary",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
