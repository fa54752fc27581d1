"""The harness driver: sensors, controller and actuators closed into one loop over the agent core.

``Harness`` owns one project's live checks, file watcher, read tracker and hooks, and the
controller's state. It implements the agent core's ``TurnSupervisor`` seam:

- ``begin_turn``: a harnessed task starts; the fold learns it.
- ``after_step``: fold the step's events; mid-turn, act only on stops, pauses, recovery and
  compaction; at a turn's end (the model stopped calling tools) run the ``turn_end`` hooks, read
  the stale checks if the rules ask to verify, decide, record the decision and its meters, and
  answer with a directive (continue with feedback, recover, stop, ask the human).
- ``end_turn``: the task ended; when the core ended it (interrupt, provider error, its own
  limits) record why as the final decision.

Readings are live whether or not the harness drives a task: give ``emit`` (the core's event
publisher) at construction and ``start`` the watcher, and checks re-run as files change.

Every event the harness emits is folded at once; when the core reports it back in a later step
report, it is skipped, so nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Final

from arcan_core.harness.actuators import directive_for, feedback_message
from arcan_core.harness.controller import (
    DEFAULT_RULES,
    EDIT_TOOLS,
    READ_TOOLS,
    ControllerState,
    Decision,
    HarnessStop,
    Rule,
    decide,
    fold,
    for_resume,
    replay,
    to_event,
)
from arcan_core.harness.hooks import HookRunner
from arcan_core.harness.meters import meter_readings, time_reading
from arcan_core.harness.watcher import IgnoreRules, LiveChecks, ProjectWatcher, ReadTracker
from arcan_core.protocol.events import (
    Event,
    HarnessToggled,
    SensorReading,
    ToolCallFinished,
    TurnFinished,
    TurnStarted,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from arcan_core.agent.session import CoreOptions
    from arcan_core.agent.supervisor import Directive, StepReport, SupervisorContext
    from arcan_core.harness.setpoints import Setpoints
    from arcan_core.protocol.events import EventMsg
    from arcan_core.protocol.messages import StopReason
    from arcan_core.tools.base import EventSink

__all__ = ["MAX_VERIFY_ROUNDS", "STEPS_PER_TURN", "Harness", "harnessed"]

MAX_VERIFY_ROUNDS: Final = 3
"""Verification rounds per decision: a check that keeps going stale must not hold the loop."""
STEPS_PER_TURN: Final = 25
"""Model steps a harnessed task may take per harness turn before the core's own limit ends it."""


def _drop(msg: EventMsg, /) -> None:
    del msg


class Harness:
    """One project's harness; the agent core's ``TurnSupervisor``."""

    def __init__(
        self,
        setpoints: Setpoints,
        root: Path,
        *,
        emit: EventSink | None = None,
        rules: Iterable[Rule] = DEFAULT_RULES,
        clock: Callable[[], float] = time.monotonic,
        debounce_s: float = 0.05,
        state: ControllerState | None = None,
    ) -> None:
        self.setpoints = setpoints
        self.harness = setpoints.harness
        self.root = root.resolve()
        self.rules = tuple(rules)
        self.state = state if state is not None else ControllerState()
        self.reads = ReadTracker(root)
        self.hooks = HookRunner(self.harness.hooks, root)
        self._sink: EventSink = emit or _drop
        self._session_sink = emit is not None
        self._clock = clock
        self._started = clock()
        self._own: dict[int, EventMsg] = {}
        self._suspects: set[str] = set()
        self.live = LiveChecks(setpoints.specs(), root, self._emit, debounce_s=debounce_s)
        self._watch_ignore = IgnoreRules(root)
        self._watcher: ProjectWatcher | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self.decisions: list[Decision] = []
        """Every decision made, in order (the events carry the same)."""
        self.outcome: HarnessStop | None = None
        """How the last harnessed task ended, once it has."""

    # -- construction from a log ---------------------------------------------------------------

    @classmethod
    def resumed(
        cls, setpoints: Setpoints, root: Path, events: Iterable[Event], **kwargs: object
    ) -> Harness:
        """A harness for a resumed session: last readings known, the loop not running."""
        state = for_resume(replay(events))
        return cls(setpoints, root, state=state, **kwargs)  # type: ignore[arg-type]

    # -- events ---------------------------------------------------------------------------------

    def attach(self, emit: EventSink) -> None:
        """Publish from now on through ``emit`` (the core's bus), with the current readings first.

        Front-ends that open the core after building the harness call this once the bus exists,
        so readings are live (and logged) whether or not the harness drives a task.
        """
        self._sink = emit
        self._session_sink = True
        for reading in self.live.last.values():
            emit(reading)

    def _emit(self, msg: EventMsg) -> None:
        self.state = fold(self.state, msg)
        self._own[id(msg)] = msg
        self._sink(msg)

    def observe(self, event: Event | EventMsg) -> None:
        """Fold an event of the core (one the harness emitted itself was folded already)."""
        msg = event.msg if isinstance(event, Event) else event
        if self._own.pop(id(msg), None) is not None:
            return
        self.state = fold(self.state, msg)
        if not isinstance(msg, ToolCallFinished) or msg.is_error:
            return
        if msg.name in READ_TOOLS and isinstance(msg.input.get("path"), str):
            self.reads.record(msg.input["path"])
        if msg.name in EDIT_TOOLS:
            # The agent's own edits make checks stale at once, without waiting for the watcher
            # (which may be off, or a few milliseconds behind).
            path = msg.input.get("path")
            if isinstance(path, str):
                self.reads.record(path)
                relative = self._watch_ignore.relative(self.root / path)
                if relative is not None:
                    self.live.files_changed({relative})
                # The agent's own edit may change what an unwatched check measures: read it
                # again before the agent's claim of done is believed.
                # A run already under way started for this task (``start``): it counts.
        self.live.mark_stale(self.live.unwatched, restart=False)

    # -- the watcher ----------------------------------------------------------------------------

    async def start(self, *, watch: bool = True) -> None:
        """Read every check now and, with ``watch``, keep them current as files change."""
        self.live.run_all()
        if watch and self._watch_task is None:
            self._watcher = ProjectWatcher(self.root, self.files_changed, ignore=self._watch_ignore)
            self._watch_task = asyncio.get_running_loop().create_task(self._watcher.run())

    def files_changed(self, paths: set[str]) -> None:
        """Files changed (seen by the watcher): flag edits behind the agent's back, mark checks.

        While the agent works, a change may be its own edit whose result the harness has not seen
        yet; such paths are judged after the step's report is folded (``after_step``), still
        before the agent's next edit.
        """
        if self.state.turn_open:
            self._suspects.update(paths)
        else:
            self._flag_external(paths)
        self.live.files_changed(paths)

    def _flag_external(self, paths: Iterable[str]) -> None:
        for path in sorted(paths):
            key = self.reads.changed(path)
            if key is not None:
                self._emit(
                    SensorReading(
                        sensor="watch:external_edit",
                        setpoint="the agent's view of the files is current",
                        status="unmet",
                        met=False,
                        value=key,
                        detail=f"{key} changed after the agent read it",
                    )
                )

    async def watcher_ready(self) -> None:
        """Wait until the watcher sees changes (for tests and benchmarks)."""
        if self._watcher is not None:
            await self._watcher.ready.wait()

    async def close(self) -> None:
        """Stop the watcher and cancel running checks."""
        if self._watcher is not None:
            self._watcher.stop()
        if self._watch_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None
        await self.live.close()

    # -- TurnSupervisor ---------------------------------------------------------------------------

    async def begin_turn(self, ctx: SupervisorContext) -> None:
        """A harnessed task starts."""
        if not self._session_sink:
            self._sink = ctx.emit
        self._own.clear()
        self._started = self._clock()
        self.outcome = None
        if not self.state.harness_on:
            self.state = fold(self.state, HarnessToggled(enabled=True))
        self.state = fold(self.state, TurnStarted(turn_id=ctx.turn_id, prompt=ctx.prompt))
        for name in self.live.names:
            if name not in self.state.checks:
                self._emit(
                    SensorReading(sensor=f"check:{name}", setpoint="", status="unknown", met=None)
                )
        # A check that watches no files is never made stale by a change, so a reading from
        # before the task would pass as current forever: it must run within the task before
        # the task can be declared done (the verify rule runs stale checks at claimed-done).
        self.live.mark_stale(self.live.unwatched)

    async def after_step(self, report: StepReport) -> Directive:
        """Fold the step, decide, and tell the loop what to do next."""
        for msg in report.events:
            self.observe(msg)
        if self._suspects:
            suspects, self._suspects = self._suspects, set()
            self._flag_external(suspects)
        model_stopped = not report.called_tools
        if model_stopped:
            await self._turn_end_hooks()
            self._emit(time_reading(self._clock() - self._started, self.harness))
        decision = self._decide()
        rounds = 0
        while model_stopped and decision.mode == "verify" and rounds < MAX_VERIFY_ROUNDS:
            self._record(decision, None)
            await self.live.verify(decision.run_checks)
            decision = self._decide()
            rounds += 1
        directive, feedback = directive_for(self.state, decision, model_stopped=model_stopped)
        acts = decision.mode in ("stop", "ask_human", "recover", "compact")
        # Mid-turn, a plain "continue" is recorded only when it ends recovery or compaction.
        leaves = decision.mode != self.state.last_mode and self.state.last_mode in (
            "recover",
            "compact",
        )
        if model_stopped or acts or leaves:
            self._record(decision, feedback)
            if model_stopped:
                for reading in meter_readings(self.state.meters, self.harness):
                    self._emit(reading)
        if decision.mode in ("stop", "ask_human"):
            await self._stopped(decision)
        return directive

    async def end_turn(self, turn_id: str, stop_reason: StopReason) -> None:
        """The task ended; when the core ended it, record why."""
        self.state = fold(self.state, TurnFinished(turn_id=turn_id, stop_reason=stop_reason))
        if self.state.ended_by_core:
            decision = self._decide()
            if decision.mode != "stop":
                decision = decision.merge(
                    Decision(
                        mode="stop",
                        stop_reason="cancelled" if stop_reason == "interrupted" else "error",
                        rationale=frozenset({("turn.ended", f"the task ended ({stop_reason})")}),
                    )
                )
            self._record(decision, None)
            await self._stopped(decision)
        self._own.clear()

    # -- helpers --------------------------------------------------------------------------------

    def _decide(self) -> Decision:
        return decide(self.state, self.harness, rules=self.rules)

    def _record(self, decision: Decision, feedback: str | None) -> None:
        self.decisions.append(decision)
        self._emit(to_event(decision, feedback))

    async def _turn_end_hooks(self) -> None:
        for hook in await self.hooks.run("turn_end", {"turns": self.state.meters.turns}):
            self._emit(hook.reading())

    async def _stopped(self, decision: Decision) -> None:
        self.outcome = decision.stop_reason
        payload = {"stop_reason": decision.stop_reason, "rationale": decision.explain()}
        for hook in await self.hooks.run("stop", payload):
            self._emit(hook.reading())

    @property
    def all_met(self) -> bool:
        """Whether every check's latest reading is a fresh "met" (vacuously true without checks)."""
        return all(c.fresh and c.met is True for c in self.state.checks.values())

    def feedback_now(self) -> str | None:
        """The feedback the agent would get if its turn ended now (for ``/harness`` views)."""
        return feedback_message(self.state, self._decide())


def harnessed(
    options: CoreOptions, *, emit: EventSink | None = None
) -> tuple[CoreOptions, Harness]:
    """Return ``options`` with a harness as the supervisor, turned on, and that harness.

    The harness enforces the task's turns, cost, tokens and time itself; the core's step limit
    is raised so it does not end a task that the harness would carry on (a harness turn is a
    model reply plus the tool steps before it).
    """
    from arcan_core.agent.state import TurnLimits  # noqa: PLC0415 - the core loads it anyway
    from arcan_core.harness.setpoints import effective_setpoints  # noqa: PLC0415

    config = options.config.harness
    setpoints = effective_setpoints(config, options.project_dir)
    harness = Harness(setpoints, options.project_dir, emit=emit)
    limits = TurnLimits(
        max_steps=config.max_turns * STEPS_PER_TURN,
        max_cost_usd=config.max_cost_usd,
        max_tokens=config.max_tokens,
    )
    return options.replace(supervisor=harness, harness_enabled=True, limits=limits), harness
