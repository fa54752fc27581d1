"""The agent's lifecycle as a type-state: each state is its own class with only its own moves.

    AgentBuilder(parts, state, emit).build()  -> ReadyAgent
    ReadyAgent.start_turn(prompt)             -> RunningTurn
    RunningTurn.steer(text) / .interrupt()    (stays running)
    await RunningTurn.wait()                  -> CompletedTurn
    CompletedTurn.next()                      -> ReadyAgent

A ``RunningTurn`` has no ``start_turn`` and a ``CompletedTurn`` no ``steer``, so a wrong
transition is an attribute error that ``mypy --strict`` reports before the code runs (see
``tests/test_agent_lifecycle.py``). Each state object is also spent once it has moved on: using a
stale one raises ``RuntimeError`` at run time, so two owners cannot drive one agent.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING

from arcan_core.agent.compaction import compact
from arcan_core.agent.loop import Turn
from arcan_core.errors import ConfigError
from arcan_core.protocol.events import HarnessToggled, ModeChanged

if TYPE_CHECKING:
    from collections.abc import Callable

    from arcan_core.agent.state import AgentParts, AgentState
    from arcan_core.protocol.events import ContextCompacted, Event, EventMsg, TurnFinished
    from arcan_core.protocol.messages import ImageBlock
    from arcan_core.protocol.operations import ApprovalMode

__all__ = ["AgentBuilder", "CompletedTurn", "ReadyAgent", "RunningTurn"]


class _Agent:
    """What every state shares: the parts, the state and the event sink."""

    def __init__(
        self, parts: AgentParts, state: AgentState, emit: Callable[[EventMsg], Event]
    ) -> None:
        self.parts = parts
        self.state = state
        self.emit = emit
        self.turn_numbers = itertools.count(state.turns + 1)

    def set_mode(self, mode: ApprovalMode) -> None:
        self.state.mode = mode
        self.parts.tools.set_mode(mode)
        self.emit(ModeChanged(mode=mode))

    def set_harness(self, enabled: bool) -> None:
        # Takes effect at the next task: a running task keeps the supervisor it started with.
        self.state.harness_enabled = enabled
        self.emit(HarnessToggled(enabled=enabled))


class _Spendable:
    def __init__(self) -> None:
        self._spent = False

    def _spend(self) -> None:
        self._check()
        self._spent = True

    def _check(self) -> None:
        if self._spent:
            raise RuntimeError(
                f"this {type(self).__name__} has moved on; use the state it returned"
            )


class AgentBuilder:
    """Checks the parts and produces the first ``ReadyAgent``."""

    def __init__(
        self, parts: AgentParts, state: AgentState, emit: Callable[[EventMsg], Event]
    ) -> None:
        self._parts = parts
        self._state = state
        self._emit = emit

    def build(self) -> ReadyAgent:
        """Validate the parts and return a ready agent.

        Raises:
            ConfigError: the limits or the model's window make no sense.
        """
        parts = self._parts
        if parts.limits.max_steps < 1:
            raise ConfigError("the step limit must be at least 1", key="harness.max_turns")
        if parts.model.context_window <= parts.model.max_output_tokens:
            raise ConfigError(
                f"model {parts.model.id}: the context window ({parts.model.context_window}) "
                f"must exceed the output limit ({parts.model.max_output_tokens})",
                key=f"models.{parts.model.id}",
                hint="fix context_window or max_output_tokens in the [models] table",
            )
        parts.tools.set_mode(self._state.mode)
        return ReadyAgent(_Agent(parts, self._state, self._emit))


class ReadyAgent(_Spendable):
    """An idle agent: it can start a turn, or do housekeeping between turns."""

    def __init__(self, agent: _Agent) -> None:
        super().__init__()
        self._agent = agent

    @property
    def state(self) -> AgentState:
        """The conversation and meters (read them; only the core mutates them)."""
        return self._agent.state

    @property
    def parts(self) -> AgentParts:
        """The agent's parts."""
        return self._agent.parts

    def start_turn(
        self, prompt: str, images: tuple[ImageBlock, ...] = (), *, turn_id: str | None = None
    ) -> RunningTurn:
        """Start a task with ``prompt``; this ready state is spent."""
        self._spend()
        agent = self._agent
        turn = Turn(
            agent.parts,
            agent.state,
            agent.emit,
            turn_id=turn_id or f"t{next(agent.turn_numbers)}",
            prompt=prompt,
            images=images,
        )
        return RunningTurn(agent, turn)

    async def compact(self, instructions: str | None = None) -> ContextCompacted | None:
        """Compact the conversation now."""
        self._check()
        agent = self._agent
        return await compact(agent.parts, agent.state, agent.emit, instructions=instructions)

    def set_mode(self, mode: ApprovalMode) -> None:
        """Change the approval mode."""
        self._check()
        self._agent.set_mode(mode)

    def set_harness(self, enabled: bool) -> None:
        """Turn the harness loop on or off for the following tasks."""
        self._check()
        self._agent.set_harness(enabled)


class RunningTurn(_Spendable):
    """A task in progress: it can be steered, interrupted or awaited."""

    def __init__(self, agent: _Agent, turn: Turn) -> None:
        super().__init__()
        self._agent = agent
        self._turn = turn
        self._task: asyncio.Task[TurnFinished] = asyncio.create_task(
            turn.drive(), name=f"arcan-turn-{turn.turn_id}"
        )
        self.interrupted = False
        self._awaited = False

    @property
    def turn_id(self) -> str:
        """The task's id."""
        return self._turn.turn_id

    @property
    def turn(self) -> Turn:
        """The loop driving this task (for sub-agent cost charging)."""
        return self._turn

    def steer(self, text: str, images: tuple[ImageBlock, ...] = ()) -> None:
        """Give the model ``text`` at its next step."""
        self._check()
        self._turn.steer(text, images)

    def set_mode(self, mode: ApprovalMode) -> None:
        """Change the approval mode; later calls of this task already use it."""
        self._check()
        self._agent.set_mode(mode)

    def set_harness(self, enabled: bool) -> None:
        """Turn the harness loop on or off for the following tasks."""
        self._check()
        self._agent.set_harness(enabled)

    def request_compaction(self, instructions: str | None = None) -> None:
        """Compact the context before the next model step."""
        self._check()
        self._turn.compact_requested = instructions or ""

    def interrupt(self) -> None:
        """Stop the task at once; ``wait`` then closes the conversation cleanly."""
        self._check()
        self.interrupted = True
        self._task.cancel()

    async def wait(self) -> CompletedTurn:
        """Wait for the task to end; this running state is spent once it has.

        Steering and interrupting stay possible while a wait is in progress.
        """
        self._check()
        if self._awaited:
            raise RuntimeError("this RunningTurn is already being awaited")
        self._awaited = True
        try:
            return await self._wait()
        finally:
            self._spent = True

    async def _wait(self) -> CompletedTurn:
        try:
            await asyncio.wait({self._task})
        except asyncio.CancelledError:
            # Our waiter was cancelled (the core is shutting down): stop the task too.
            self._task.cancel()
            await asyncio.wait({self._task})
            await self._turn.finish_interrupted()
            raise
        if self._task.cancelled():
            finished = await self._turn.finish_interrupted()
        elif (error := self._task.exception()) is not None:
            finished = await self._turn.finish_failed(error)
        else:
            finished = self._task.result()
        return CompletedTurn(self._agent, finished, self._turn.limit_hit)


class CompletedTurn(_Spendable):
    """A finished task: read its outcome, then move on with ``next``."""

    def __init__(self, agent: _Agent, finished: TurnFinished, limit_hit: str | None) -> None:
        super().__init__()
        self._agent = agent
        self.finished = finished
        self.limit_hit = limit_hit
        """Why a limit stopped the task, or ``None``."""

    def next(self) -> ReadyAgent:
        """Return the ready agent for the next task; this state is spent."""
        self._spend()
        return ReadyAgent(self._agent)
