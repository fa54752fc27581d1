"""Rebuilding a session's state from its log: what resume uses.

``rebuild`` is a fold over the record events (see ``protocol.events``); display-only events (deltas,
live output) do not change the state. Each record type has its own small reducer in ``_REDUCERS``,
so a new record event is one function plus one registry line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from arcan_core.protocol.events import (
    ContextCompacted,
    ControllerDecision,
    Event,
    HarnessToggled,
    MessageAppended,
    ModeChanged,
    ModelChanged,
    ReasoningChanged,
    SensorReading,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import Message, Usage
from arcan_core.protocol.operations import ApprovalMode, ReasoningEffort

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from arcan_core.protocol.records import SessionHeader

__all__ = ["SessionState", "rebuild"]


class SessionState(BaseModel):
    """The state of a session after replaying its log.

    Attributes:
        session_id: the session.
        messages: the conversation as the model sees it (compactions applied).
        provider: the provider in use (header, then the last ``ModelChanged``).
        model: the model in use.
        mode: the approval mode set during the session, or ``None`` (use the configured one).
        harness_enabled: the last ``HarnessToggled``, or ``None`` (use the configured default).
        reasoning_effort: the last ``ReasoningChanged``, or ``None`` (use the configured one).
        turns: the number of turns started.
        open_turn: the id of a turn that started and never finished (a crash or a kill).
        usage: the session's token totals (from the last ``UsageUpdated``).
        cost_usd: the session's cost so far.
        context_tokens: the context size after the last request.
        sensors: the last reading of each sensor, by sensor name.
        last_decision: the harness controller's last decision.
        last_seq: the highest sequence number seen; the next event gets ``last_seq + 1``.
    """

    model_config = ConfigDict(frozen=True)

    session_id: str
    messages: tuple[Message, ...] = ()
    provider: str
    model: str
    mode: ApprovalMode | None = None
    harness_enabled: bool | None = None
    reasoning_effort: ReasoningEffort | None = None
    turns: int = 0
    open_turn: str | None = None
    usage: Usage = Usage()
    cost_usd: float = 0.0
    context_tokens: int = 0
    sensors: dict[str, SensorReading] = {}
    last_decision: ControllerDecision | None = None
    last_seq: int = -1


@dataclass
class _Fold:
    """The mutable accumulator; frozen into a ``SessionState`` at the end."""

    provider: str
    model: str
    messages: list[Message] = field(default_factory=list)
    mode: ApprovalMode | None = None
    harness_enabled: bool | None = None
    reasoning_effort: ReasoningEffort | None = None
    turns: int = 0
    open_turn: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    context_tokens: int = 0
    sensors: dict[str, SensorReading] = field(default_factory=dict)
    last_decision: ControllerDecision | None = None


def _message(fold: _Fold, msg: MessageAppended) -> None:
    fold.messages.append(msg.message)


def _compacted(fold: _Fold, msg: ContextCompacted) -> None:
    fold.messages[: msg.replaced] = [msg.summary]


def _model(fold: _Fold, msg: ModelChanged) -> None:
    fold.provider, fold.model = msg.provider, msg.model


def _mode(fold: _Fold, msg: ModeChanged) -> None:
    fold.mode = msg.mode


def _harness(fold: _Fold, msg: HarnessToggled) -> None:
    fold.harness_enabled = msg.enabled


def _reasoning(fold: _Fold, msg: ReasoningChanged) -> None:
    fold.reasoning_effort = msg.effort


def _turn_started(fold: _Fold, msg: TurnStarted) -> None:
    fold.turns += 1
    fold.open_turn = msg.turn_id


def _turn_finished(fold: _Fold, msg: TurnFinished) -> None:
    if fold.open_turn == msg.turn_id:
        fold.open_turn = None


def _usage(fold: _Fold, msg: UsageUpdated) -> None:
    fold.usage = msg.session_usage
    fold.cost_usd = msg.session_cost_usd
    fold.context_tokens = msg.context_tokens


def _sensor(fold: _Fold, msg: SensorReading) -> None:
    fold.sensors[msg.sensor] = msg


def _decision(fold: _Fold, msg: ControllerDecision) -> None:
    fold.last_decision = msg


_REDUCERS: dict[type, Callable[[_Fold, Any], None]] = {
    MessageAppended: _message,
    ContextCompacted: _compacted,
    ModelChanged: _model,
    ModeChanged: _mode,
    HarnessToggled: _harness,
    ReasoningChanged: _reasoning,
    TurnStarted: _turn_started,
    TurnFinished: _turn_finished,
    UsageUpdated: _usage,
    SensorReading: _sensor,
    ControllerDecision: _decision,
}
"""Payload type -> how it changes the state. Types not listed are display-only."""


def rebuild(header: SessionHeader, events: Iterable[Event]) -> SessionState:
    """Replay ``events`` (in log order) over the header's initial state.

    Events of sub-agents (with a ``parent_call_id``) belong to the sub-agent's own conversation
    and are skipped; only their parent's tool result enters this conversation.
    """
    fold = _Fold(provider=header.provider, model=header.model)
    last_seq = -1
    for event in events:
        last_seq = max(last_seq, event.seq)
        if event.parent_call_id is not None:
            continue
        reducer = _REDUCERS.get(type(event.msg))
        if reducer is not None:
            reducer(fold, event.msg)
    return SessionState(
        session_id=header.session_id,
        messages=tuple(fold.messages),
        provider=fold.provider,
        model=fold.model,
        mode=fold.mode,
        harness_enabled=fold.harness_enabled,
        reasoning_effort=fold.reasoning_effort,
        turns=fold.turns,
        open_turn=fold.open_turn,
        usage=fold.usage,
        cost_usd=fold.cost_usd,
        context_tokens=fold.context_tokens,
        sensors=dict(fold.sensors),
        last_decision=fold.last_decision,
        last_seq=last_seq,
    )
