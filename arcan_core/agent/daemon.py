"""The core daemon: one asyncio task that owns a session.

Operations arrive on an ``asyncio.Queue`` (``submit`` never blocks); events leave through the
``EventBus`` to every subscriber. The task holds the agent in one of its type-states: idle (a
``ReadyAgent``) or busy (a ``RunningTurn`` plus the task awaiting it). While a turn runs the daemon
keeps reading operations, so prompts steer, interrupts interrupt and approvals are answered.

No front-end can reach the agent's state: ``CoreDaemon`` exposes only the ``CoreHandle`` methods.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from typing import TYPE_CHECKING, Protocol

from arcan_core.errors import ArcanError
from arcan_core.protocol.events import (
    ErrorEvent,
    FilesRestored,
    ModelChanged,
    ReasoningChanged,
)
from arcan_core.protocol.events import (
    Warning as WarningEvent,
)
from arcan_core.protocol.operations import (
    AnswerApproval,
    Compact,
    Interrupt,
    Operation,
    Rewind,
    SetHarness,
    SetMode,
    SetModel,
    SetReasoning,
    Shutdown,
    Submission,
    SubmitPrompt,
    Undo,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from arcan_core.agent.approvals import InteractiveAsker
    from arcan_core.agent.bus import EventBus
    from arcan_core.agent.checkpoints import RestoreResult
    from arcan_core.agent.lifecycle import CompletedTurn, ReadyAgent, RunningTurn
    from arcan_core.agent.state import TurnLimits
    from arcan_core.agent.supervisor import TurnSupervisor
    from arcan_core.protocol.events import Event
    from arcan_core.protocol.messages import ImageBlock, Message
    from arcan_core.providers.base import ModelInfo, Provider

__all__ = ["CoreDaemon", "ModelSwitcher"]


class ModelSwitcher(Protocol):
    """Builds the provider and model info for a ``SetModel`` operation."""

    def __call__(self, provider_name: str | None, model: str) -> tuple[Provider, ModelInfo]:
        """Return the new provider (possibly the current one) and the model's info."""


class CoreDaemon:
    """The running core of one session; implements ``CoreHandle``."""

    def __init__(
        self,
        agent: ReadyAgent,
        bus: EventBus,
        *,
        asker: InteractiveAsker | None = None,
        switch_model: ModelSwitcher | None = None,
        rewind_conversation: Callable[[str], Awaitable[str]] | None = None,
        on_close: Callable[[], None] | None = None,
        closers: Sequence[Callable[[], Awaitable[None]]] = (),
        services: Sequence[Callable[[], Awaitable[None]]] = (),
        limits_for: Callable[[bool], TurnLimits] | None = None,
    ) -> None:
        self._ready: ReadyAgent | None = agent
        self._parts = agent.parts
        self._state = agent.state
        self._running: RunningTurn | None = None
        self._waiter: asyncio.Task[CompletedTurn] | None = None
        self._chore: asyncio.Task[None] | None = None
        """Housekeeping between tasks (compaction) that an interrupt can cancel."""
        self._deferred: list[Operation] = []
        """Operations that arrived during a chore, run in order once it ends."""
        self._bus = bus
        self._asker = asker
        self._switch_model = switch_model
        self._rewind_conversation = rewind_conversation
        self._on_close = on_close
        self._closers = tuple(closers)
        """What the core owns besides its providers (MCP servers), stopped after them."""
        self._services = tuple(services)
        """Stoppers of what publishes on the bus beside the core task (the live harness), run
        once the last task ended and before the log closes."""
        self._limits_for = limits_for
        """The limits of a task by the harness setting (the harness budgets a task itself)."""
        self._queue: asyncio.Queue[Submission] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._pending_model: SetModel | None = None
        self._providers: list[Provider] = [agent.parts.provider]
        """Every provider this core opened, to close with it."""
        self.last_turn: CompletedTurn | None = None
        """The outcome of the last task, for headless reporting."""
        self._task = asyncio.create_task(self._run(), name=f"arcan-core-{bus.session_id}")

    # -- CoreHandle ---------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        """The id of the session the core owns."""
        return self._bus.session_id

    def submit(self, op: Operation) -> str:
        """Queue ``op`` and return its submission id."""
        submission_id = f"s{next(self._ids)}"
        self._queue.put_nowait(Submission(id=submission_id, op=op))
        return submission_id

    def subscribe(self, *, replay: bool = False, deltas: bool = True) -> AsyncIterator[Event]:
        """Return a new subscription (see ``EventBus.subscribe``)."""
        return self._bus.subscribe(replay=replay, deltas=deltas)

    async def wait_closed(self) -> None:
        """Wait until the core task ended and the log was closed."""
        await asyncio.shield(self._task)

    @property
    def messages(self) -> tuple[Message, ...]:
        """The conversation as the model sees it now (an immutable copy)."""
        return tuple(self._state.messages)

    @property
    def model(self) -> ModelInfo:
        """The model in use: its provider, id and limits (a new session has no log to ask yet)."""
        return self._parts.model

    @property
    def supervisor(self) -> TurnSupervisor | None:
        """What drives a task while the harness is on (the core's ``Harness``, if it has one).

        Front-ends read it for views (setpoints, the feedback the agent would get now); they
        change it only through operations.
        """
        return self._parts.supervisor

    @property
    def busy(self) -> bool:
        """Whether a task is running."""
        return self._running is not None

    # -- the task -------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                getter = asyncio.ensure_future(self._queue.get())
                waiting: set[asyncio.Future[object]] = {getter}  # type: ignore[arg-type]
                if self._waiter is not None:
                    waiting.add(self._waiter)  # type: ignore[arg-type]
                if self._chore is not None:
                    waiting.add(self._chore)  # type: ignore[arg-type]
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if self._waiter is not None and self._waiter in done:
                    self._turn_done(self._waiter.result())
                if self._chore is not None and self._chore in done:
                    self._chore = None
                    if await self._run_deferred():
                        break
                if getter in done:
                    if await self._handle(getter.result().op):
                        break
                else:
                    getter.cancel()
        finally:
            await self._shutdown()

    async def _run_deferred(self) -> bool:
        """Run the operations that waited for a chore; stop early if another chore starts."""
        while self._deferred and self._chore is None:
            if await self._handle(self._deferred.pop(0)):
                return True
        return False

    async def _handle(self, op: Operation) -> bool:
        """Dispatch one operation; a failing operation is reported, and the core goes on."""
        if self._chore is not None:
            match op:
                case Interrupt():
                    self._chore.cancel()
                    return False
                case Shutdown():
                    self._chore.cancel()
                    await asyncio.wait({self._chore})
                    self._chore = None
                    return True
                case AnswerApproval() | SetMode() | SetHarness() | SetReasoning():
                    pass
                case _:
                    self._deferred.append(op)
                    return False
        try:
            return await self._dispatch(op)
        except ArcanError as error:
            self._bus.publish(
                ErrorEvent(kind=type(error).__name__, message=error.message, hint=error.hint)
            )
        except Exception as error:  # noqa: BLE001 - boundary: one bad operation must not end the core
            self._bus.publish(
                ErrorEvent(
                    kind=type(error).__name__,
                    message=f"internal error while handling {op.op}: {error}",
                    hint="run with --debug and report it",
                )
            )
        return False

    def _turn_done(self, completed: CompletedTurn) -> None:
        self.last_turn = completed
        self._running = None
        self._waiter = None
        self._ready = completed.next()
        if self._pending_model is not None:
            op, self._pending_model = self._pending_model, None
            self._set_model(op)

    async def _shutdown(self) -> None:
        if self._running is not None and self._waiter is not None:
            if not self._waiter.done() and not self._running.interrupted:
                self._running.interrupt()
            self._turn_done(await self._waiter)
        try:
            for stop in self._services:
                await stop()
            if self._on_close is not None:
                self._on_close()
        finally:
            self._bus.close()
            try:
                for provider in self._providers:
                    await provider.aclose()
            finally:
                for closer in self._closers:
                    await closer()

    async def _dispatch(self, op: Operation) -> bool:  # noqa: PLR0912 - one arm per op
        """Handle one operation; return ``True`` to stop the core."""
        match op:
            case SubmitPrompt(text=text, images=images):
                if self._running is not None:
                    self._running.steer(text, images)
                else:
                    self._start(text, images)
            case Interrupt():
                if self._running is not None and not self._running.interrupted:
                    self._running.interrupt()
            case AnswerApproval():
                if self._asker is None or not self._asker.answer(op):
                    self._bus.publish(WarningEvent(message=f"no call {op.call_id} awaits approval"))
            case SetMode(mode=mode):
                self._current().set_mode(mode)
            case SetHarness(enabled=enabled):
                self._current().set_harness(enabled)
            case SetReasoning():
                self._set_reasoning(op)
            case SetModel():
                if self._running is not None:
                    self._pending_model = op
                    self._bus.publish(WarningEvent(message="the model changes after this task"))
                else:
                    self._set_model(op)
            case Compact(instructions=instructions):
                if self._running is not None:
                    self._running.request_compaction(instructions)
                elif self._ready is not None:
                    self._chore = asyncio.create_task(self._compact(self._ready, instructions))
            case Undo():
                await self._idle_only("undo", self._undo)
            case Rewind():
                await self._idle_only("rewind", lambda: self._rewind(op))
            case Shutdown():
                return True
        return False

    async def _compact(self, ready: ReadyAgent, instructions: str | None) -> None:
        try:
            await ready.compact(instructions)
        except asyncio.CancelledError:
            # Our own chore, cancelled by an Interrupt: compaction changes the state only at
            # its very end, so nothing was changed.
            self._bus.publish(WarningEvent(message="compaction interrupted; nothing was changed"))
        except ArcanError as error:
            self._bus.publish(
                ErrorEvent(kind=type(error).__name__, message=error.message, hint=error.hint)
            )

    def _current(self) -> ReadyAgent | RunningTurn:
        # Mode and harness changes are legal in both states; they reach the shared state.
        if self._running is not None:
            return self._running
        assert self._ready is not None  # noqa: S101 - one of the two is always set
        return self._ready

    def _start(self, text: str, images: tuple[ImageBlock, ...]) -> None:
        assert self._ready is not None  # noqa: S101 - idle means a ready agent
        if self._limits_for is not None:
            # ``SetHarness`` takes effect at the next task; so do the limits that go with it.
            self._parts.limits = self._limits_for(self._state.harness_enabled)
        running = self._ready.start_turn(text, images)
        self._ready = None
        self._running = running
        self._waiter = asyncio.create_task(running.wait())

    def _set_model(self, op: SetModel) -> None:
        if self._switch_model is None or self._ready is None:
            self._bus.publish(WarningEvent(message="this core cannot switch models"))
            return
        try:
            provider, info = self._switch_model(op.provider, op.model)
        except Exception as error:  # noqa: BLE001 - boundary: a bad model name is a message
            hint = getattr(error, "hint", None)
            self._bus.publish(ErrorEvent(kind=type(error).__name__, message=str(error), hint=hint))
            return
        parts = self._ready.parts
        if provider is not parts.provider:
            # The old one may still serve a sub-agent; it is closed with the core.
            self._providers.append(provider)
        parts.provider = provider
        parts.model = info
        self._bus.publish(ModelChanged(provider=provider.name, model=info.id))

    def _set_reasoning(self, op: SetReasoning) -> None:
        # The parts are shared with a running task, which reads the settings at each step: the
        # change reaches its next request, like a steering prompt, without waiting for the task.
        parts = self._parts
        parts.settings = dataclasses.replace(parts.settings, reasoning_effort=op.effort)
        applies = parts.model.supports_thinking
        self._bus.publish(ReasoningChanged(effort=op.effort, applies=applies, reason=op.reason))
        if not applies:
            self._bus.publish(
                WarningEvent(
                    message=f"{parts.model.id} does not reason; effort {op.effort} applies "
                    "once you switch to a model that does"
                )
            )

    async def _idle_only(self, what: str, action: Callable[[], object]) -> None:
        if self._running is not None:
            self._bus.publish(
                WarningEvent(message=f"cannot {what} while a task runs; interrupt it")
            )
            return
        result = action()
        if asyncio.iscoroutine(result):
            await result

    def _report_restore(self, result: RestoreResult | None, what: str) -> None:
        if result is None:
            self._bus.publish(
                WarningEvent(message=f"nothing to {what}: no checkpoint of a finished task")
            )
            return
        if result.restored:
            self._bus.publish(FilesRestored(paths=result.restored, checkpoint=result.checkpoint))
        elif not result.refused:
            self._bus.publish(WarningEvent(message=f"{what}: the task changed no files"))
        if result.refused:
            listed = ", ".join(result.refused)
            self._bus.publish(
                WarningEvent(message=f"{what}: left alone (changed since the task ended): {listed}")
            )

    async def _undo(self) -> None:
        assert self._ready is not None  # noqa: S101
        checkpoints = self._ready.parts.checkpoints
        if checkpoints is None:
            self._bus.publish(WarningEvent(message="checkpoints are off in this session"))
            return
        self._report_restore(await checkpoints.undo(), "undo")

    async def _rewind(self, op: Rewind) -> None:
        assert self._ready is not None  # noqa: S101
        checkpoints = self._ready.parts.checkpoints
        if op.files:
            if checkpoints is None:
                self._bus.publish(WarningEvent(message="checkpoints are off in this session"))
            else:
                self._report_restore(await checkpoints.rewind_files(op.turn_id), "rewind")
        if op.conversation:
            if self._rewind_conversation is None:
                self._bus.publish(WarningEvent(message="this core cannot rewind its conversation"))
                return
            old = self._bus.session_id
            try:
                new = await self._rewind_conversation(op.turn_id)
            except ArcanError as error:
                self._bus.publish(
                    ErrorEvent(kind=type(error).__name__, message=error.message, hint=error.hint)
                )
                return
            self._bus.publish(
                WarningEvent(
                    message=f"rewound to before {op.turn_id}: this is now session {new}, "
                    f"forked from {old} (kept as it was)"
                )
            )
