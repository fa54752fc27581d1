"""Listing sessions: the sidecar, the scan fallback, ids and prefixes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import SessionNotFoundError
from arcan_core.protocol.events import (
    Event,
    EventMsg,
    MessageAppended,
    ModelChanged,
    TextDelta,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.messages import Message, TextBlock, ToolUseBlock
from arcan_core.protocol.records import SessionHeader
from arcan_core.store import (
    ProjectPaths,
    SessionWriter,
    latest_session,
    list_sessions,
    new_session_id,
    read_summary,
    resolve_session_id,
)
from arcan_core.store.ids import is_session_id
from arcan_core.store.index import SessionMeta, title_from_prompt

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def identity(text: str) -> str:
    return text


def make_session(
    paths: ProjectPaths,
    session_id: str,
    start: datetime,
    msgs: list[EventMsg],
    *,
    close: bool = True,
) -> SessionWriter:
    head = SessionHeader(
        session_id=session_id,
        arcan_version="0.1.0",
        created=start,
        cwd=str(paths.project_dir),
        provider="anthropic",
        model="claude-a",
    )
    writer = SessionWriter.create(paths, head, redactor=identity)
    for seq, msg in enumerate(msgs):
        writer.append(
            Event(session_id=session_id, seq=seq, ts=start + timedelta(minutes=seq), msg=msg)
        )
    if close:
        writer.close()
    return writer


def conversation(prompt: str) -> list[EventMsg]:
    return [
        TurnStarted(turn_id="t1", prompt=prompt),
        MessageAppended(message=Message(role="user", content=(TextBlock(text=prompt),))),
        # A tool input that looks like a turn-start record must not count as a turn.
        MessageAppended(
            message=Message(
                role="assistant",
                content=(ToolUseBlock(id="c", name="x", input={"msg": {"type": "turn_started"}}),),
            )
        ),
        TurnFinished(turn_id="t1", stop_reason="end_turn"),
        ModelChanged(provider="openai", model="gpt-b"),
        TurnStarted(turn_id="t2", prompt="second"),
        TurnFinished(turn_id="t2", stop_reason="end_turn"),
    ]


def test_sessions_are_listed_newest_first_with_their_summary(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    make_session(paths, "20261125T090000-aaaaaa", T0, conversation("old task"))
    make_session(paths, "20261125T100000-bbbbbb", T0 + timedelta(hours=1), conversation("new task"))
    # Created first, but updated last.
    make_session(
        paths, "20261125T080000-cccccc", T0 - timedelta(hours=1), [TextDelta(text="x")] * 70
    )
    sessions = list_sessions(tmp_path)
    assert [s.id for s in sessions] == [
        "20261125T100000-bbbbbb",
        "20261125T080000-cccccc",
        "20261125T090000-aaaaaa",
    ]
    newest = sessions[0]
    assert (newest.title, newest.turns, newest.provider, newest.model) == (
        "new task",
        2,
        "openai",
        "gpt-b",
    )
    assert newest.updated == T0 + timedelta(hours=1, minutes=6)
    assert latest_session(tmp_path) == "20261125T100000-bbbbbb"


def test_without_a_sidecar_the_scan_gives_the_same_summary(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    session_id = "20261125T090000-aaaaaa"
    make_session(paths, session_id, T0, conversation("a task\nwith details"))
    from_meta = read_summary(paths, session_id)
    paths.session_meta(session_id).unlink()
    assert read_summary(paths, session_id) == from_meta
    assert type(from_meta).__name__ == "SessionSummary"


def test_a_stale_or_garbled_sidecar_falls_back_to_the_log(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    session_id = "20261125T090000-aaaaaa"
    writer = make_session(paths, session_id, T0, conversation("task")[:4], close=False)
    # A crash mid-turn: the sidecar was written at the last sync, the log has more.
    writer.append(
        Event(
            session_id=session_id,
            seq=10,
            ts=T0 + timedelta(hours=2),
            msg=TurnStarted(turn_id="t2", prompt="more"),
        )
    )
    writer.append(
        Event(session_id=session_id, seq=11, ts=T0 + timedelta(hours=3), msg=TextDelta(text="…"))
    )
    (summary,) = list_sessions(tmp_path)
    assert summary.turns == 2
    assert summary.updated == T0 + timedelta(hours=3)
    paths.session_meta(session_id).write_text("{not json")
    assert list_sessions(tmp_path)[0].turns == 2
    writer.close()


def test_a_damaged_log_is_left_out_of_the_list(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    make_session(paths, "20261125T090000-aaaaaa", T0, conversation("fine"))
    paths.session_log("20261125T090001-bbbbbb").write_text("garbage\n")
    assert [s.id for s in list_sessions(tmp_path)] == ["20261125T090000-aaaaaa"]


def test_a_project_without_sessions(tmp_path: Path) -> None:
    assert list_sessions(tmp_path) == []
    assert latest_session(tmp_path) is None
    assert not (tmp_path / ".arcan").exists()  # listing creates nothing


def test_ids_resolve_by_unique_prefix(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    for session_id in (
        "20261125T090000-aaaaaa",
        "20261125T090000-abbbbb",
        "20261126T090000-cccccc",
    ):
        make_session(paths, session_id, T0, [])
    assert resolve_session_id(tmp_path, "20261126") == "20261126T090000-cccccc"
    assert resolve_session_id(tmp_path, "20261125T090000-aaaaaa") == "20261125T090000-aaaaaa"
    with pytest.raises(SessionNotFoundError, match="matches 2 sessions"):
        resolve_session_id(tmp_path, "20261125T090000-a")
    with pytest.raises(SessionNotFoundError, match="no session"):
        resolve_session_id(tmp_path, "2027")
    with pytest.raises(SessionNotFoundError):
        resolve_session_id(tmp_path, "")


def test_new_ids_are_well_formed_and_sort_by_time() -> None:
    first = new_session_id(T0)
    later = new_session_id(T0 + timedelta(seconds=1))
    assert is_session_id(first)
    assert first < later
    assert first.startswith("20261125T090000-")
    assert len({new_session_id(T0) for _ in range(50)}) > 45


def test_titles_come_from_the_first_line_of_the_prompt() -> None:
    assert title_from_prompt("\n\n  fix   the bug \nin the parser") == "fix the bug"
    long = title_from_prompt("word " * 40)
    assert len(long) == 72
    assert long.endswith("…")
    assert title_from_prompt("   ") == ""


def test_the_sidecar_round_trips_and_rejects_garbage() -> None:
    meta = SessionMeta(
        id="20261125T090000-aaaaaa",
        title="naïve title",
        created=T0,
        updated=T0 + timedelta(minutes=5),
        turns=3,
        model="m",
        provider="p",
        size=1234,
    )
    assert SessionMeta.loads(meta.dumps().encode()) == meta
    for garbage in (b"", b"[]", b'{"id": 1}', meta.dumps().replace('"turns": 3', '"turns": true')):
        with pytest.raises(ValueError, match=r"sidecar|Expecting|expected"):
            SessionMeta.loads(garbage if isinstance(garbage, bytes) else garbage.encode())


def test_listing_current_sessions_needs_no_pydantic(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    make_session(paths, "20261125T090000-aaaaaa", T0, conversation("task"))
    code = (
        "import sys; from pathlib import Path; from arcan_core.store import list_sessions; "
        f"assert len(list_sessions(Path({str(tmp_path)!r}))) == 1; "
        "print('pydantic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
