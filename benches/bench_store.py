"""The session store's speed: append 10,000 events, load and replay them, list 1,000 sessions.

Targets (2-core machine): load a 10,000-event session < 0.3 s; list 1,000 sessions < 0.2 s.
Run: ``.venv/bin/python -m pytest benches/bench_store.py --benchmark-enable``
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING

import pytest

from arcan_core.protocol.events import (
    Event,
    EventMsg,
    MessageAppended,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock, Usage
from arcan_core.protocol.records import SessionHeader
from arcan_core.store import ProjectPaths, SessionWriter, list_sessions, load_session, rebuild

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_benchmark.fixture import BenchmarkFixture

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
_ids = count()


def header(session_id: str, created: datetime = T0) -> SessionHeader:
    return SessionHeader(
        session_id=session_id,
        arcan_version="0.1.0",
        created=created,
        cwd="/project",
        provider="anthropic",
        model="claude-sonnet-4-5",
    )


def turn(turn_no: int) -> list[EventMsg]:
    """One realistic turn: 50 events (deltas, a tool call, messages, usage)."""
    call = f"toolu_{turn_no}"
    msgs: list[EventMsg] = [
        TurnStarted(turn_id=f"t{turn_no}", prompt=f"task number {turn_no}: fix the parser"),
        MessageAppended(message=Message(role="user", content=(TextBlock(text="fix it"),))),
    ]
    msgs += [TextDelta(text="some streamed words of the reply ") for _ in range(40)]
    msgs += [
        ToolCallStarted(call_id=call, name="bash"),
        MessageAppended(
            message=Message(
                role="assistant",
                content=(
                    TextBlock(text="Running the tests. " * 10),
                    ToolUseBlock(id=call, name="bash", input={"command": "pytest -q"}),
                ),
            )
        ),
        ToolCallFinished(call_id=call, name="bash", result="3 passed\n" * 20),
        MessageAppended(
            message=Message(
                role="user", content=(ToolResultBlock(tool_use_id=call, content="3 passed"),)
            )
        ),
        UsageUpdated(usage=Usage(input_tokens=1000), session_usage=Usage(input_tokens=9000)),
        MessageAppended(
            message=Message(role="assistant", content=(TextBlock(text="All green now."),))
        ),
        TextDelta(text="done"),
        TurnFinished(turn_id=f"t{turn_no}", stop_reason="end_turn"),
    ]
    return msgs


def events(session_id: str, total: int, start: datetime = T0) -> list[Event]:
    msgs: list[EventMsg] = []
    turn_no = 0
    while len(msgs) < total:
        msgs += turn(turn_no)
        turn_no += 1
    return [
        Event(session_id=session_id, seq=seq, ts=start + timedelta(milliseconds=seq), msg=msg)
        for seq, msg in enumerate(msgs[:total])
    ]


def identity(text: str) -> str:
    return text


def write_session(paths: ProjectPaths, session_id: str, items: list[Event]) -> None:
    with SessionWriter.create(paths, header(session_id, items[0].ts if items else T0)) as writer:
        for item in items:
            writer.append(item)


def make_sessions(project: Path, how_many: int, events_each: int = 100) -> None:
    """Create ``how_many`` sessions of ``events_each`` events: one written, the rest copied."""
    paths = ProjectPaths(project)
    template_id = "20261125T000000-000000"
    write_session(paths, template_id, events(template_id, events_each))
    log = paths.session_log(template_id).read_text()
    meta = paths.session_meta(template_id).read_text()
    for number in range(1, how_many):
        session_id = f"{T0 + timedelta(seconds=number):%Y%m%dT%H%M%S}-{number:06x}"
        paths.session_log(session_id).write_text(log.replace(template_id, session_id))
        paths.session_meta(session_id).write_text(meta.replace(template_id, session_id))


@pytest.fixture(scope="module")
def big_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    paths = ProjectPaths(tmp_path_factory.mktemp("big"))
    write_session(paths, "20261125T090000-b16b16", events("20261125T090000-b16b16", 10_000))
    return paths.session_log("20261125T090000-b16b16")


@pytest.fixture(scope="module")
def many_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("many")
    make_sessions(project, 1000)
    return project


def _append_all(project: Path, items: list[Event], *, redact: bool) -> None:
    session_id = f"20261125T090000-{next(_ids):06x}"
    paths = ProjectPaths(project / session_id)
    redactor = None if redact else identity
    with SessionWriter.create(paths, header(session_id), redactor=redactor) as writer:
        for item in items:
            writer.append(item)


def test_append_10k_events(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    items = events("20261125T090000-a11a11", 10_000)
    benchmark(_append_all, tmp_path, items, redact=False)


def test_append_10k_events_with_redaction(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    items = events("20261125T090000-a11a11", 10_000)
    benchmark(_append_all, tmp_path, items, redact=True)


def test_load_10k_events(benchmark: BenchmarkFixture, big_session: Path) -> None:
    loaded = benchmark(load_session, big_session)
    assert len(loaded.events) == 10_000


def test_load_and_replay_10k_events(benchmark: BenchmarkFixture, big_session: Path) -> None:
    def resume() -> int:
        loaded = load_session(big_session)
        return len(rebuild(loaded.header, loaded.events).messages)

    assert benchmark(resume) > 0


def test_list_1000_sessions(benchmark: BenchmarkFixture, many_sessions: Path) -> None:
    assert len(benchmark(list_sessions, many_sessions)) == 1000


def test_list_1000_sessions_without_sidecars(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    make_sessions(tmp_path, 1000)
    for meta in (tmp_path / ".arcan" / "sessions").glob("*.meta.json"):
        meta.unlink()
    assert len(benchmark(list_sessions, tmp_path)) == 1000
