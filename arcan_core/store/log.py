"""Writing a session log: one JSON line per event, appended atomically, synced when it matters.

Atomicity: the log is opened with ``O_APPEND`` and each record (its JSON and its newline) goes out
in a single ``os.write``, so a line is never interleaved with another write and a crash can cut
at most the line being written. ``os.write`` is unbuffered, so every event is in the kernel when
``append`` returns (a crash of arcan loses nothing; a power cut may lose what was not fsynced).

Durability: ``sync`` fsyncs the log and rewrites the listing sidecar. The writer calls it by itself
after the events in ``SYNC_EVENTS`` (a turn starting or finishing, an approval being requested, a
compaction, a model or mode change, files restored); the core calls it after an approval is
answered and whenever else it needs the log on disk before going on.

Secrets: every line passes through a ``Redactor`` before it is written, so an API key or the value
of a secret-looking environment variable never reaches the log, even inside a tool's output.

One writer per session: ``create`` and ``open_existing`` take the session's ``SessionLock``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import TYPE_CHECKING, Self

from pydantic_core import PydanticSerializationError

from arcan_core.config.secrets import Redactor
from arcan_core.errors import SessionNotFoundError, StoreError
from arcan_core.protocol.events import (
    ContextCompacted,
    Event,
    FilesRestored,
    ModeChanged,
    ModelChanged,
    ReasoningChanged,
    ToolCallAwaitingApproval,
    TurnFinished,
    TurnStarted,
)
from arcan_core.store.lock import SessionLock
from arcan_core.store.summary import write_meta
from arcan_core.store.tracker import SummaryTracker

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from arcan_core.protocol.records import SessionHeader
    from arcan_core.store.layout import ProjectPaths
    from arcan_core.store.reader import LoadedSession

__all__ = ["SYNC_EVENTS", "SessionWriter"]

SYNC_EVENTS: frozenset[type] = frozenset(
    {
        TurnStarted,
        TurnFinished,
        ToolCallAwaitingApproval,
        ContextCompacted,
        ModelChanged,
        ModeChanged,
        ReasoningChanged,
        FilesRestored,
    }
)
"""Payload types after which the writer fsyncs on its own (turn boundaries, approvals, state)."""

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def _check_id(session_id: str) -> None:
    # The id becomes a file name; refuse anything that could leave sessions/.
    if not _SAFE_ID.match(session_id):
        raise StoreError(f"invalid session id {session_id!r}")


def _json_line(event: Event) -> str:
    """Serialize ``event``; text with lone surrogates (undecodable bytes) is still written."""
    try:
        return event.to_json()
    except PydanticSerializationError:
        # Strict UTF-8 refuses lone surrogates (from surrogateescape-decoded output). The log
        # must not refuse an event for that: each such character is written as "?".
        return json.dumps(event.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def _fsync_dir(path: os.PathLike[str] | str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SessionWriter:
    """The one appender of a session's log. Use ``create`` or ``open_existing``, then ``close``.

    Attributes:
        header: the log's header.
        path: the log file.
        loaded: for ``open_existing``, the session as it was read (so the caller need not read it
            again); ``None`` for a new session.
    """

    def __init__(
        self,
        *,
        paths: ProjectPaths,
        header: SessionHeader,
        fd: int,
        lock: SessionLock,
        size: int,
        tracker: SummaryTracker,
        redactor: Callable[[str], str],
        loaded: LoadedSession | None,
    ) -> None:
        """Wrap an open log; use ``create`` or ``open_existing`` instead."""
        self.header = header
        self.paths = paths
        self.path = paths.session_log(header.session_id)
        self.loaded = loaded
        self._fd: int | None = fd
        self._lock = lock
        self._size = size
        self._tracker = tracker
        self._redact = redactor
        self._dirty = False

    @property
    def session_id(self) -> str:
        """The session's id."""
        return self.header.session_id

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._fd is None

    @classmethod
    def create(
        cls,
        paths: ProjectPaths,
        header: SessionHeader,
        *,
        redactor: Callable[[str], str] | None = None,
        records: Sequence[Event] = (),
    ) -> Self:
        """Create ``.arcan/`` if needed and start a new log with ``header``, durably.

        Args:
            paths: the project's store.
            header: the first line; its ``session_id`` names the file.
            redactor: the scrubber for every line (default: ``Redactor()`` of this process).
            records: the first events, written after the header and made durable with it by
                the same fsync (a session's log is created on its first turn, whose start
                would otherwise be a second fsync right after the first).

        Raises:
            StoreError: the log exists already, the id is unsafe, or the disk refused.
            SessionLockedError: another process holds the id (practically: never).
        """
        _check_id(header.session_id)
        paths.ensure()
        lock = SessionLock(paths.session_lock(header.session_id), header.session_id)
        lock.acquire()
        try:
            path = paths.session_log(header.session_id)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
            # 0600: a log holds the conversation, tool output and file contents.
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            lock.release()
            raise StoreError(f"session {header.session_id} exists already") from None
        except OSError as error:
            lock.release()
            raise StoreError(f"cannot create {path}: {error.strerror}") from error
        redact = redactor or Redactor()
        writer = cls(
            paths=paths,
            header=header,
            fd=fd,
            lock=lock,
            size=0,
            tracker=SummaryTracker(header),
            redactor=redact,
            loaded=None,
        )
        writer._write((redact(header.model_dump_json()) + "\n").encode())
        for record in records:
            writer._append_line(record)
        writer.sync()
        _fsync_dir(paths.sessions_dir)  # the new file's name must survive a power cut too
        return writer

    @classmethod
    def open_existing(
        cls,
        paths: ProjectPaths,
        session_id: str,
        *,
        redactor: Callable[[str], str] | None = None,
    ) -> Self:
        """Lock an existing session, load it, and open its log for appending.

        If the log ends in a line cut by a crash, a newline is written first: the fragment stays
        as an unreadable line that readers skip with a warning, and new records start clean.

        Raises:
            SessionNotFoundError: no such log.
            SessionLockedError: another live process writes it.
            StoreError: it cannot be read or opened.
        """
        # The reader loads with the first resume, not with every new session's writer.
        from arcan_core.store.reader import load_session  # noqa: PLC0415

        _check_id(session_id)
        path = paths.session_log(session_id)
        if not path.exists():
            raise SessionNotFoundError(f"no session {session_id} in {paths.project_dir}")
        lock = SessionLock(paths.session_lock(session_id), session_id)
        lock.acquire()
        try:
            loaded = load_session(path)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        except OSError as error:
            lock.release()
            raise StoreError(f"cannot open {path}: {error.strerror}") from error
        except BaseException:
            lock.release()
            raise
        tracker = SummaryTracker(loaded.header)
        for event in loaded.events:
            tracker.observe(event)
        writer = cls(
            paths=paths,
            header=loaded.header,
            fd=fd,
            lock=lock,
            size=loaded.size,
            tracker=tracker,
            redactor=redactor or Redactor(),
            loaded=loaded,
        )
        if not loaded.ends_with_newline:
            writer._write(b"\n")
            writer.sync()
        return writer

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise StoreError(f"session {self.session_id} is closed")
        view = memoryview(data)
        try:
            # A regular file takes the whole buffer in one write; the loop only matters when the
            # disk fills up part way, and then the error below is raised anyway.
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as error:
            raise StoreError(
                f"cannot write the session log {self.path}: {error.strerror}",
                hint="free disk space; the session continues unsaved until then",
            ) from error
        self._size += len(data)
        self._dirty = True

    def append(self, event: Event) -> None:
        """Write ``event`` as one line; fsync if its payload type is in ``SYNC_EVENTS``.

        Raises:
            StoreError: the log is closed or the disk refused the write.
        """
        self._append_line(event)
        if type(event.msg) in SYNC_EVENTS:
            self.sync()

    def _append_line(self, event: Event) -> None:
        self._write(self._redact(_json_line(event)).encode("utf-8", "replace") + b"\n")
        self._tracker.observe(event)

    def set_title(self, title: str) -> None:
        """Give the session a title for listings (kept in the sidecar)."""
        self._tracker.title = title
        self._dirty = True
        self.sync()

    def sync(self) -> None:
        """Fsync the log and rewrite the listing sidecar. Cheap when nothing changed."""
        if self._fd is None or not self._dirty:
            return
        try:
            os.fsync(self._fd)
            meta = self._tracker.meta(self._size)
            # The title is the user's first prompt: scrub it as the log line that holds it was.
            meta = dataclasses.replace(meta, title=self._redact(meta.title))
            write_meta(self.paths.session_meta(self.session_id), meta)
        except OSError as error:
            raise StoreError(f"cannot sync {self.path}: {error.strerror}") from error
        self._dirty = False

    def close(self) -> None:
        """Sync, close the log and release the lock. Safe to call twice."""
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            fd, self._fd = self._fd, None
            os.close(fd)
            self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
