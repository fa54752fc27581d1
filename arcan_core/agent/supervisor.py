"""The seam between the turn loop and a supervisor such as the harness controller.

The loop consults a ``TurnSupervisor`` at the start of each task and after each model step, handing
it a ``StepReport`` (the payloads emitted during the step, the step's stop reason, the running
totals). The supervisor answers with a ``Directive``; it never touches core state, it only steers
the loop through these answers and publishes its own events (sensor readings, decisions) through
the ``emit`` it was given in ``begin_turn``.

``NoSupervisor`` is the default: it always says ``proceed``, which is the plain agent loop (run
tools while the model calls them, stop when it stops).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from arcan_core.protocol.events import Event
from arcan_core.protocol.messages import StopReason, Usage
from arcan_core.protocol.operations import ApprovalMode
from arcan_core.tools.base import EventSink

__all__ = [
    "Directive",
    "DirectiveAction",
    "NoSupervisor",
    "StepReport",
    "SupervisorContext",
    "TurnSupervisor",
]

DirectiveAction = Literal["proceed", "continue", "recover", "compact", "ask_human", "stop"]
"""What the loop does next.

- ``proceed``: the plain loop: another step if the model called tools, else the task ends.
- ``continue``: another step even if the model stopped, with ``feedback`` as a user message
  (the harness uses it for "checks are red, keep going" and "verify your work").
- ``recover``: like ``continue``, but the next step offers read-only tools only.
- ``compact``: compact the context before the next step, then proceed.
- ``ask_human``: end the task and say ``feedback`` to the user (stop reason ``end_turn``).
- ``stop``: end the task now; ``feedback`` is reported as a warning when given.
"""


class Directive(BaseModel):
    """A supervisor's answer after a step.

    The gates (``allowed_tools``, ``mode``, ``max_output_tokens``) apply to the next step only;
    the supervisor restates them after every step for as long as it wants them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: DirectiveAction = "proceed"
    feedback: str | None = None
    allowed_tools: tuple[str, ...] | None = None
    """The only tools offered (and allowed to run) in the next step; ``None``: no restriction."""
    mode: ApprovalMode | None = None
    """An approval mode for the next step; applied only if stricter than the session's."""
    max_output_tokens: int | None = None
    """An output cap for the next request."""


PROCEED = Directive()


@dataclass(frozen=True)
class SupervisorContext:
    """What a supervisor learns when a task starts."""

    turn_id: str
    prompt: str
    workspace: Path
    mode: ApprovalMode
    emit: EventSink
    """Publish the supervisor's own events (``SensorReading``, ``ControllerDecision``)."""


@dataclass(frozen=True)
class StepReport:
    """One model step as the supervisor sees it."""

    turn_id: str
    step: int
    """1 for the first step of the task."""
    stop_reason: StopReason
    called_tools: bool
    events: tuple[Event, ...]
    """The events emitted during the step (stamped envelopes), in order, deltas excluded."""
    turn_usage: Usage
    turn_cost_usd: float
    context_tokens: int
    context_window: int


class TurnSupervisor(Protocol):
    """Consulted by the turn loop; the harness controller implements it."""

    async def begin_turn(self, ctx: SupervisorContext) -> None:
        """A task starts (before its first model step)."""

    async def after_step(self, report: StepReport) -> Directive:
        """A model step and its tool calls finished; say what the loop does next."""

    async def end_turn(self, turn_id: str, stop_reason: StopReason) -> None:
        """The task ended (after ``TurnFinished`` was emitted)."""


class NoSupervisor:
    """The plain agent loop: always ``proceed``."""

    async def begin_turn(self, ctx: SupervisorContext) -> None:
        """Nothing to prepare."""
        del ctx

    async def after_step(self, report: StepReport) -> Directive:
        """Proceed."""
        del report
        return PROCEED

    async def end_turn(self, turn_id: str, stop_reason: StopReason) -> None:
        """Nothing to clean up."""
        del turn_id, stop_reason
