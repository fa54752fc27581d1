"""The session log sink before a new session's first task: what it holds, and how much."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from arcan_core.agent.session import _LogSink
from arcan_core.protocol.events import Event, EventMsg, ModeChanged, SensorReading, TurnStarted

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass
class RecordingWriter:
    path: Path = Path("log.jsonl")
    events: list[Event] = field(default_factory=list)

    def append(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def _event(seq: int, msg: EventMsg) -> Event:
    return Event(session_id="s", seq=seq, ts=datetime.now(UTC), msg=msg)


def _reading(sensor: str, value: str) -> SensorReading:
    return SensorReading(sensor=sensor, setpoint="exit0", status="met", met=True, value=value)


def test_an_idle_session_holds_only_the_latest_reading_of_each_sensor() -> None:
    writer = RecordingWriter()
    created: list[RecordingWriter] = []

    def create(records: Sequence[Event]) -> RecordingWriter:
        # A new log is written with its first records (see ``SessionWriter.create``).
        created.append(writer)
        writer.events.extend(records)
        return writer

    sink = _LogSink(None, create=create)  # type: ignore[arg-type]
    seq = 0
    for round_ in range(500):  # a front-end left open for hours, checks re-running
        for sensor in ("tests", "lint"):
            seq += 1
            sink(_event(seq, _reading(sensor, f"{sensor}-{round_}")))
        if round_ == 10:
            seq += 1
            sink(_event(seq, ModeChanged(mode="auto-edit")))
    assert len(sink._held) == 3
    assert not created
    seq += 1
    sink(_event(seq, TurnStarted(turn_id="t1", prompt="go")))
    assert created
    kinds = [(e.msg.type, getattr(e.msg, "value", "")) for e in writer.events]
    assert kinds == [
        ("mode_changed", ""),
        ("sensor_reading", "tests-499"),
        ("sensor_reading", "lint-499"),
        ("turn_started", ""),
    ]
    assert [e.seq for e in writer.events] == sorted(e.seq for e in writer.events)
