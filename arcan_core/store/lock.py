"""One writer per session: an advisory ``flock`` on ``sessions/<id>.lock``.

The kernel releases an ``flock`` when its holder dies, however it dies, so a lock left behind by a
crashed or killed arcan is simply taken over: the file may still exist, but nobody holds it. The
holder writes its pid, host and start time into the file, so a refused process can say who holds
the session.

Releasing unlinks the file while still holding the lock. A process that opened the old file just
before would then hold a lock on an unlinked inode; ``acquire`` guards against that by checking,
after locking, that the path still names the inode it locked, and retrying otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from arcan_core.errors import SessionLockedError, StoreError

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

__all__ = ["LockHolder", "SessionLock"]

_ACQUIRE_ATTEMPTS = 5


class LockHolder:
    """Who holds a lock, as written in the lock file (fields may be unknown)."""

    def __init__(self, pid: int | None, host: str | None, since: str | None) -> None:
        self.pid = pid
        self.host = host
        self.since = since

    @classmethod
    def read(cls, path: Path) -> LockHolder:
        """Read the holder from ``path``; unknown fields when it is missing or garbled."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(None, None, None)
        if not isinstance(data, dict):
            return cls(None, None, None)
        pid = data.get("pid")
        return cls(
            pid if isinstance(pid, int) else None,
            str(data["host"]) if "host" in data else None,
            str(data["since"]) if "since" in data else None,
        )

    def describe(self) -> str:
        """Return e.g. ``pid 4242 on devbox``."""
        pid = "an unknown pid" if self.pid is None else f"pid {self.pid}"
        return f"{pid} on {self.host or 'an unknown host'}"


class SessionLock:
    """The exclusive right to append to one session's log.

    Use as a context manager, or call ``acquire`` and ``release``.
    """

    def __init__(self, path: Path, session_id: str) -> None:
        self.path = path
        self.session_id = session_id
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock without waiting.

        Raises:
            SessionLockedError: another live process holds it; the message names its pid and host.
            StoreError: the lock file cannot be created.
        """
        if self._fd is not None:
            return
        for _ in range(_ACQUIRE_ATTEMPTS):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise StoreError(f"cannot create the lock {self.path}: {error.strerror}") from error
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = LockHolder.read(self.path)
                raise SessionLockedError(
                    f"session {self.session_id} is open in another arcan ({holder.describe()})",
                    hint="close that arcan first, or start a new session",
                ) from None
            if self._same_file(fd):
                self._fd = fd
                self._write_holder(fd)
                return
            # The holder released (and unlinked) between our open and our lock: try again.
            os.close(fd)
        raise StoreError(f"could not take the lock {self.path}: it kept changing")

    def _same_file(self, fd: int) -> bool:
        try:
            on_disk = self.path.stat()
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)

    @staticmethod
    def _write_holder(fd: int) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(),
        }
        data = json.dumps(record).encode()
        # Write, then cut: a reader never sees an empty file while the old holder's text shrinks.
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))

    def release(self) -> None:
        """Give the lock up and remove the file. Safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # Unlink while still holding the lock, so nobody locks a file we are about to remove.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
