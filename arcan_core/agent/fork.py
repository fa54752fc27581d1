"""Forking: a new session that starts as a copy of an old one, up to a chosen point.

The new log gets a header with ``forked_from`` and copies of the old session's events, re-stamped
with the new id and renumbered; the old session is left as it was. Cutting "before turn T" keeps
everything up to (not including) the ``TurnStarted`` of ``T``, so the fork goes on from the
moment before that prompt. The old session's checkpoints of the kept turns are shared by the new
one (see ``Checkpoints.adopt``), so undo works across the fork.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from arcan_core.errors import SessionNotFoundError
from arcan_core.protocol.events import TurnStarted

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arcan_core.protocol.events import Event
    from arcan_core.store import ProjectPaths, SessionWriter

__all__ = ["cut_before", "fork_session"]


def cut_before(events: Sequence[Event], turn_id: str | None) -> list[Event]:
    """Return the events before the main agent's ``TurnStarted`` of ``turn_id`` (all: ``None``).

    Raises:
        SessionNotFoundError: the session has no such turn.
    """
    if turn_id is None:
        return list(events)
    for index, event in enumerate(events):
        msg = event.msg
        if event.parent_call_id is None and isinstance(msg, TurnStarted) and msg.turn_id == turn_id:
            return list(events[:index])
    raise SessionNotFoundError(
        f"the session has no turn {turn_id!r}", hint="pick a turn id from the session's log"
    )


def fork_session(
    paths: ProjectPaths, source_id: str, *, before_turn: str | None = None, title: str = ""
) -> tuple[SessionWriter, list[Event]]:
    """Create a new session from ``source_id`` cut before ``before_turn``.

    Returns the new session's writer and its copied events (for rebuilding its state).

    Raises:
        SessionNotFoundError: no such session or turn.
        StoreError: the new log cannot be written.
    """
    from arcan_core.store import (  # noqa: PLC0415 - the store loads with the core
        SessionWriter,
        load_session,
        new_session_id,
    )

    log = paths.session_log(source_id)
    if not log.exists():
        raise SessionNotFoundError(f"no session {source_id} in {paths.project_dir}")
    loaded = load_session(log)
    kept = cut_before(loaded.events, before_turn)
    new_id = new_session_id()
    header = loaded.header.model_copy(
        update={
            "session_id": new_id,
            "created": datetime.now(UTC),
            "forked_from": source_id,
            "title": title or loaded.header.title,
        }
    )
    writer = SessionWriter.create(paths, header)
    copied = [
        event.model_copy(update={"session_id": new_id, "seq": seq})
        for seq, event in enumerate(kept)
    ]
    try:
        for event in copied:
            writer.append(event)
        writer.sync()
    except BaseException:
        writer.close()
        raise
    return writer, copied
