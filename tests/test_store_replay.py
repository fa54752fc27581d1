"""Replaying a log rebuilds the state resume needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from arcan_core.protocol.events import (
    ContextCompacted,
    ControllerDecision,
    Event,
    EventMsg,
    HarnessToggled,
    MessageAppended,
    ModeChanged,
    ModelChanged,
    SensorReading,
    TextDelta,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import Message, TextBlock, ThinkingBlock, Usage
from arcan_core.protocol.records import SessionHeader
from arcan_core.store import ProjectPaths, SessionWriter, load_session, rebuild

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HEADER = SessionHeader(
    session_id="20261125T090000-abcdef",
    arcan_version="0.1.0",
    created=T0,
    cwd="/p",
    provider="anthropic",
    model="claude-a",
)


def user(text: str) -> Message:
    return Message(role="user", content=(TextBlock(text=text),))


def assistant(text: str) -> Message:
    return Message(
        role="assistant",
        content=(ThinkingBlock(thinking="hmm", signature="sig=="), TextBlock(text=text)),
    )


def envelop(msgs: list[EventMsg], parent: dict[int, str] | None = None) -> list[Event]:
    return [
        Event(
            session_id=HEADER.session_id,
            seq=seq,
            ts=T0 + timedelta(seconds=seq),
            parent_call_id=(parent or {}).get(seq),
            msg=msg,
        )
        for seq, msg in enumerate(msgs)
    ]


def sensor(name: str, status: Literal["met", "unmet"]) -> SensorReading:
    return SensorReading(sensor=name, setpoint="tests", status=status)


SESSION: list[EventMsg] = [
    TurnStarted(turn_id="t1", prompt="one"),
    MessageAppended(message=user("one")),
    TextDelta(text="partial display text"),
    MessageAppended(message=assistant("reply one")),
    sensor("pytest", "unmet"),
    ControllerDecision(mode="continue", rules=("unmet",)),
    UsageUpdated(
        usage=Usage(input_tokens=10),
        session_usage=Usage(input_tokens=10, output_tokens=5),
        session_cost_usd=0.5,
        context_tokens=15,
    ),
    TurnFinished(turn_id="t1", stop_reason="end_turn"),
    ModelChanged(provider="openai", model="gpt-b"),
    ModeChanged(mode="auto-edit"),
    HarnessToggled(enabled=False),
    TurnStarted(turn_id="t2", prompt="two"),
    MessageAppended(message=user("two")),
    MessageAppended(message=assistant("reply two")),
    ContextCompacted(summary=user("summary of one"), replaced=2),
    sensor("pytest", "met"),
    sensor("ruff", "met"),
    ControllerDecision(mode="stop", stop_reason="completed"),
    UsageUpdated(
        usage=Usage(input_tokens=20),
        session_usage=Usage(input_tokens=30, output_tokens=9),
        session_cost_usd=1.25,
        context_tokens=7,
    ),
    TurnFinished(turn_id="t2", stop_reason="end_turn"),
    TurnStarted(turn_id="t3", prompt="three"),
    MessageAppended(message=user("three")),
]


def test_rebuild_folds_every_record_event() -> None:
    state = rebuild(HEADER, envelop(SESSION))
    assert state.messages == (
        user("summary of one"),
        user("two"),
        assistant("reply two"),
        user("three"),
    )
    assert (state.provider, state.model) == ("openai", "gpt-b")
    assert state.mode == "auto-edit"
    assert state.harness_enabled is False
    assert state.turns == 3
    assert state.open_turn == "t3"  # the log ends mid-turn
    assert state.usage == Usage(input_tokens=30, output_tokens=9)
    assert state.cost_usd == 1.25
    assert state.context_tokens == 7
    assert {name: reading.status for name, reading in state.sensors.items()} == {
        "pytest": "met",
        "ruff": "met",
    }
    assert state.last_decision == ControllerDecision(mode="stop", stop_reason="completed")
    assert state.last_seq == len(SESSION) - 1


def test_an_empty_log_is_the_header_state() -> None:
    state = rebuild(HEADER, [])
    assert state.messages == ()
    assert (state.provider, state.model, state.turns, state.last_seq) == (
        "anthropic",
        "claude-a",
        0,
        -1,
    )
    assert state.mode is None
    assert state.open_turn is None


def test_sub_agent_events_stay_out_of_the_parent_conversation() -> None:
    msgs: list[EventMsg] = [
        MessageAppended(message=user("parent")),
        MessageAppended(message=user("child prompt")),
        TurnStarted(turn_id="child", prompt="child prompt"),
    ]
    state = rebuild(HEADER, envelop(msgs, parent={1: "call-1", 2: "call-1"}))
    assert state.messages == (user("parent"),)
    assert state.turns == 0
    assert state.last_seq == 2


def test_replay_from_disk_equals_replay_in_memory(tmp_path: Path) -> None:
    events = envelop(SESSION)
    paths = ProjectPaths(tmp_path)
    with SessionWriter.create(paths, HEADER) as writer:
        for item in events:
            writer.append(item)
    loaded = load_session(writer.path)
    assert rebuild(loaded.header, loaded.events) == rebuild(HEADER, events)
