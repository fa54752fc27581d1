"""One writer per session, across real processes; a dead holder's lock is taken over."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import SessionLockedError
from arcan_core.protocol.records import SessionHeader
from arcan_core.store import ProjectPaths, SessionLock, SessionWriter

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SESSION = "20261125T090000-abcdef"

# The child opens the session for writing, says so, and holds it until its stdin closes.
HOLDER = """
import sys
from pathlib import Path
from arcan_core.store import ProjectPaths, SessionWriter
writer = SessionWriter.open_existing(ProjectPaths(Path(sys.argv[1])), sys.argv[2])
print("locked", flush=True)
sys.stdin.read()
writer.close()
print("released", flush=True)
"""


@pytest.fixture
def paths(tmp_path: Path) -> ProjectPaths:
    paths = ProjectPaths(tmp_path)
    header = SessionHeader(
        session_id=SESSION,
        arcan_version="0.1.0",
        created=datetime(2026, 11, 25, tzinfo=UTC),
        cwd=str(tmp_path),
        provider="anthropic",
        model="m",
    )
    SessionWriter.create(paths, header).close()
    return paths


@pytest.fixture
def holder(paths: ProjectPaths) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(paths.project_dir), SESSION],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "locked\n"  # waits for the event, not the clock
    yield child
    if child.poll() is None:
        child.kill()
    child.wait()


def test_a_second_process_is_refused_with_the_holders_pid_and_host(
    paths: ProjectPaths, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(SessionLockedError) as caught:
        SessionWriter.open_existing(paths, SESSION)
    assert f"pid {holder.pid}" in caught.value.message
    assert socket.gethostname() in caught.value.message
    assert caught.value.hint


def test_the_lock_is_free_once_the_holder_closes(
    paths: ProjectPaths, holder: subprocess.Popen[str]
) -> None:
    out, _ = holder.communicate("")
    assert out == "released\n"
    SessionWriter.open_existing(paths, SESSION).close()


def test_a_lock_left_by_a_killed_process_is_taken_over(
    paths: ProjectPaths, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    lock_file = paths.session_lock(SESSION)
    assert lock_file.exists()  # it died without cleaning up
    assert str(holder.pid) in lock_file.read_text()
    with SessionWriter.open_existing(paths, SESSION):
        assert str(os.getpid()) in lock_file.read_text()


def test_two_locks_in_one_process_exclude_each_other(paths: ProjectPaths) -> None:
    lock_path = paths.session_lock(SESSION)
    with (
        SessionLock(lock_path, SESSION),
        pytest.raises(SessionLockedError, match=f"pid {os.getpid()}"),
    ):
        SessionLock(lock_path, SESSION).acquire()
    with SessionLock(lock_path, SESSION) as again:
        assert again.held
