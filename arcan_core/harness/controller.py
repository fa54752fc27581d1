"""The controller: a pure fold over the event stream, rules, and decisions that only tighten.

State
    ``ControllerState`` is rebuilt by ``fold(state, event)`` over the session's events; it reads
    nothing else (wall time arrives as a ``meter:time`` reading), so replaying a log gives exactly
    the state the live session had. ``replay(events)`` does that from the start.

Rules
    Each ``Rule`` reads the state and the setpoints and returns a partial ``Decision`` with its
    rationale, or ``None``. ``decide`` merges every fired rule's decision.

Decisions
    A ``Decision`` is a point in a product of lattices, one per field, each ordered from permissive
    to restrictive: the mode (idle < continue < compact < verify < recover < ask_human < stop),
    the stop reason, the allowed tools (all ⊇ any subset), the approval mode (no change <
    full-auto < auto-edit < ask < plan), the output cap (none > any number, smaller is tighter),
    compaction (no < yes), the checks to run, feedback notes and rationale (sets, union).
    ``merge`` is the join: the most restrictive value per field. It is commutative, associative
    and monotone, so the order in which rules fire cannot matter and no rule can loosen another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import reduce
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeVar, get_args

from arcan_core.config.model import HarnessConfig
from arcan_core.harness.meters import (
    COMPACT_ENTER,
    NEARLY_SPENT,
    Meters,
    ProgressPoint,
    budget_use,
)
from arcan_core.protocol.events import (
    ContextCompacted,
    ControllerDecision,
    ErrorEvent,
    Event,
    HarnessToggled,
    MessageAppended,
    SensorReading,
    ToolCallFinished,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import StopReason
from arcan_core.protocol.operations import ApprovalMode

if TYPE_CHECKING:
    from collections.abc import Iterable

    from arcan_core.protocol.events import EventMsg


__all__ = [
    "APPROVAL_ORDER",
    "DEFAULT_RULES",
    "EDIT_TOOLS",
    "MODE_ORDER",
    "READ_ONLY_TOOLS",
    "READ_TOOLS",
    "STOP_ORDER",
    "CheckStatus",
    "ControllerState",
    "Decision",
    "HarnessStop",
    "Mode",
    "Note",
    "Rule",
    "decide",
    "fold",
    "for_resume",
    "merge_all",
    "replay",
    "settle",
    "to_event",
]

Mode = Literal["idle", "continue", "compact", "verify", "recover", "ask_human", "stop"]
HarnessStop = Literal[
    "completed",
    "no_progress",
    "needs_user",
    "budget_exceeded",
    "blocked_by_policy",
    "cancelled",
    "error",
]

MODE_ORDER: Final[dict[str, int]] = {m: i for i, m in enumerate(get_args(Mode))}
STOP_ORDER: Final[dict[str | None, int]] = {
    None: 0,
    **{r: i + 1 for i, r in enumerate(get_args(HarnessStop))},
}
APPROVAL_ORDER: Final[dict[str | None, int]] = {
    None: 0,
    "full-auto": 1,
    "auto-edit": 2,
    "ask": 3,
    "plan": 4,
}

READ_ONLY_TOOLS: Final = frozenset({"read", "grep", "glob", "todo"})
"""Tools recover mode leaves the model: enough to look and diagnose, nothing that changes files."""
EDIT_TOOLS: Final = frozenset({"write", "edit", "edit_lines", "patch"})
"""Tools whose success is a file change (the watcher reports others, such as shell edits)."""
READ_TOOLS: Final = frozenset({"read"})
"""Tools after which the agent knows a file's content (an edit of it later is guarded)."""
OUTPUT_CAP_NEARLY_SPENT: Final = 4096
_WRAP_UP: Final = (
    "Budget nearly spent ({why}). Wrap up: finish the most important fix first, keep replies short."
)


Note = tuple[int, str]
"""A feedback note: its priority (lower first) and its text."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A (partial) decision: the restriction a rule asks for, with why."""

    mode: Mode = "idle"
    stop_reason: HarnessStop | None = None
    tools: frozenset[str] | None = None
    """Allowed tools; ``None``: no restriction."""
    approval_mode: ApprovalMode | None = None
    """At most this permissive; ``None``: leave the user's mode."""
    max_output_tokens: int | None = None
    compact: bool = False
    run_checks: frozenset[str] = frozenset()
    feedback: frozenset[Note] = frozenset()
    rationale: frozenset[tuple[str, str]] = frozenset()
    """(rule name, why) for every rule that contributed."""

    def merge(self, other: Decision) -> Decision:
        """Return the join: the most restrictive value of each field."""
        tools = (
            other.tools
            if self.tools is None
            else (self.tools if other.tools is None else self.tools & other.tools)
        )
        caps = [c for c in (self.max_output_tokens, other.max_output_tokens) if c is not None]
        return Decision(
            mode=self.mode if MODE_ORDER[self.mode] >= MODE_ORDER[other.mode] else other.mode,
            stop_reason=(
                self.stop_reason
                if STOP_ORDER[self.stop_reason] >= STOP_ORDER[other.stop_reason]
                else other.stop_reason
            ),
            tools=tools,
            approval_mode=(
                self.approval_mode
                if APPROVAL_ORDER[self.approval_mode] >= APPROVAL_ORDER[other.approval_mode]
                else other.approval_mode
            ),
            max_output_tokens=min(caps) if caps else None,
            compact=self.compact or other.compact,
            run_checks=self.run_checks | other.run_checks,
            feedback=self.feedback | other.feedback,
            rationale=self.rationale | other.rationale,
        )

    def at_least_as_strict_as(self, other: Decision) -> bool:
        """Return whether ``self`` restricts at least as much as ``other`` in every field."""
        tools_ok = other.tools is None or (self.tools is not None and self.tools <= other.tools)
        cap_ok = other.max_output_tokens is None or (
            self.max_output_tokens is not None and self.max_output_tokens <= other.max_output_tokens
        )
        return (
            MODE_ORDER[self.mode] >= MODE_ORDER[other.mode]
            and STOP_ORDER[self.stop_reason] >= STOP_ORDER[other.stop_reason]
            and tools_ok
            and APPROVAL_ORDER[self.approval_mode] >= APPROVAL_ORDER[other.approval_mode]
            and cap_ok
            and (self.compact or not other.compact)
            and self.run_checks >= other.run_checks
            and self.feedback >= other.feedback
            and self.rationale >= other.rationale
        )

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of the rules that contributed, sorted."""
        return tuple(sorted({name for name, _ in self.rationale}))

    def explain(self) -> str:
        """The rationale as one line per rule, in rule-name order."""
        return "; ".join(f"{name}: {why}" for name, why in sorted(self.rationale))

    def notes(self) -> tuple[str, ...]:
        """Feedback notes in priority order."""
        return tuple(text for _, text in sorted(self.feedback))


def merge_all(decisions: Iterable[Decision]) -> Decision:
    """Merge any number of decisions (the empty merge is the idle decision)."""
    return reduce(Decision.merge, decisions, Decision())


@dataclass(frozen=True, slots=True)
class CheckStatus:
    """The latest reading of one check, and the one before it (for "what changed")."""

    status: str
    met: bool | None
    value: str = ""
    counts: tuple[tuple[str, int], ...] = ()
    detail: str = ""
    previous_value: str = ""
    previous_status: str = ""

    @property
    def fresh(self) -> bool:
        """Whether the reading is a finished run that no later change made stale."""
        return self.status in ("met", "unmet", "error")

    def failures(self) -> int:
        """The failure count the reading gave (0 when it gave none)."""
        counts = dict(self.counts)
        return counts.get("failures", counts.get("errors", 0 if self.met else 1))


@dataclass(frozen=True, slots=True)
class ControllerState:
    """Everything the rules need, rebuilt from events alone."""

    harness_on: bool = False
    task_active: bool = False
    turn_open: bool = False
    awaiting_settle: bool = False
    meters: Meters = field(default_factory=Meters)
    checks: Mapping[str, CheckStatus] = field(default_factory=dict)
    turn_edits: int = 0
    turn_readings: int = 0
    idle_turns: int = 0
    repeats: int = 0
    last_signature: tuple[tuple[str, tuple[tuple[str, int], ...], str], ...] = ()
    claimed_done: bool = False
    agent_question: bool = False
    last_turn_stop: StopReason | None = None
    denials: int = 0
    cancelled: bool = False
    compacted_since_high: bool = False
    recovering: bool = False
    external_edits: tuple[str, ...] = ()
    hook_failures: Mapping[str, str] = field(default_factory=dict)
    ended_by_core: bool = False
    last_mode: Mode = "idle"
    last_stop: HarnessStop | None = None

    def unmet_checks(self) -> tuple[str, ...]:
        """Names of the checks whose latest finished reading is not met."""
        return tuple(n for n, c in self.checks.items() if c.fresh and c.met is not True)

    def stale_checks(self) -> tuple[str, ...]:
        """Names of the checks with no finished, current reading (stale, running, never run)."""
        return tuple(n for n, c in self.checks.items() if not c.fresh)


_set = object.__setattr__
_T = TypeVar("_T")


def replace(obj: _T, /, **changes: Any) -> _T:
    """``dataclasses.replace`` for the frozen, slotted state classes, without its introspection.

    The fold runs once per event; the standard ``replace`` re-derives the fields and re-runs
    ``__init__`` each time, which costs more than the whole rest of a fold step.
    """
    cls = type(obj)
    new = object.__new__(cls)
    for name in _FIELDS[cls]:
        _set(new, name, changes[name] if name in changes else getattr(obj, name))
    return new


def _with_meters(state: ControllerState, **changes: Any) -> ControllerState:
    return replace(state, meters=replace(state.meters, **changes))


_FIELDS: Final[dict[type[Any], tuple[str, ...]]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in (ControllerState, Meters)
}


def _turn_started(state: ControllerState, msg: TurnStarted) -> ControllerState:
    del msg
    if state.harness_on and not state.task_active:
        # A new harnessed task: fresh budgets and progress; check readings carry over.
        state = replace(
            state,
            task_active=True,
            meters=Meters(context=state.meters.context),
            idle_turns=0,
            repeats=0,
            last_signature=(),
            denials=0,
            cancelled=False,
            recovering=False,
            last_stop=None,
        )
    return replace(
        state,
        turn_open=True,
        awaiting_settle=False,
        turn_edits=0,
        turn_readings=0,
        claimed_done=False,
        agent_question=False,
        last_turn_stop=None,
        ended_by_core=False,
    )


def _message(state: ControllerState, msg: MessageAppended) -> ControllerState:
    message = msg.message
    if message.role != "assistant":
        return state
    if message.tool_uses():
        return replace(state, claimed_done=False, agent_question=False)
    # The model stopped calling tools: a harness turn ends here and the controller will decide.
    counted = 1 if state.task_active else 0
    return replace(
        _with_meters(state, turns=state.meters.turns + counted),
        claimed_done=True,
        agent_question=message.text().rstrip().endswith("?"),
        awaiting_settle=state.task_active,
    )


def _tool_finished(state: ControllerState, msg: ToolCallFinished) -> ControllerState:
    meters = state.meters
    streak = meters.error_streak + 1 if msg.is_error and not msg.denied else 0
    if msg.denied:
        streak = meters.error_streak
    edits = state.turn_edits + (1 if msg.name in EDIT_TOOLS and not msg.is_error else 0)
    return replace(
        state,
        meters=replace(meters, tool_calls=meters.tool_calls + 1, error_streak=streak),
        turn_edits=edits,
        denials=state.denials + 1 if msg.denied else 0,
    )


def _usage(state: ControllerState, msg: UsageUpdated) -> ControllerState:
    usage = msg.usage
    spent = (
        usage.input_tokens
        + usage.output_tokens
        + usage.cache_read_tokens
        + usage.cache_write_tokens
    )
    gauge = state.meters.context.update(
        msg.context_tokens or usage.context_tokens, msg.context_window
    )
    high_again = gauge.high and not state.meters.context.high
    return replace(
        _with_meters(
            state,
            tokens=state.meters.tokens + spent,
            cost_usd=state.meters.cost_usd + msg.cost_usd,
            context=gauge,
        ),
        compacted_since_high=False if high_again else state.compacted_since_high,
    )


def _compacted(state: ControllerState, msg: ContextCompacted) -> ControllerState:
    gauge = state.meters.context.update(msg.tokens_after, state.meters.context.window)
    return replace(_with_meters(state, context=gauge), compacted_since_high=gauge.high)


def _error(state: ControllerState, msg: ErrorEvent) -> ControllerState:
    del msg
    return _with_meters(state, error_streak=state.meters.error_streak + 1)


def _reading(state: ControllerState, msg: SensorReading) -> ControllerState:
    sensor = msg.sensor
    if sensor.startswith("check:"):
        name = sensor[6:]
        old = state.checks.get(name)
        counts = tuple(sorted(msg.counts.items()))
        new = CheckStatus(
            status=msg.status,
            met=msg.met,
            value=msg.value,
            counts=counts,
            detail=msg.detail,
            previous_value=(old.value if old and old.fresh else old.previous_value if old else ""),
            previous_status=(
                old.status if old and old.fresh else old.previous_status if old else ""
            ),
        )
        finished = msg.status in ("met", "unmet", "error")
        changed = finished and (
            old is None or (old.met, old.counts, old.detail) != (msg.met, counts, msg.detail)
        )
        # A check going stale means a watched file changed: that is activity in this turn.
        edits = state.turn_edits + (1 if msg.status == "stale" else 0)
        return replace(
            state,
            checks={**state.checks, name: new},
            turn_readings=state.turn_readings + (1 if changed else 0),
            turn_edits=edits,
        )
    if sensor == "meter:time":
        elapsed = msg.counts.get("elapsed_ms", 0) / 1000.0
        return _with_meters(state, elapsed_s=elapsed)
    if sensor == "watch:external_edit":
        if msg.value in state.external_edits:
            return state
        return replace(state, external_edits=(*state.external_edits, msg.value))
    if sensor.startswith("hook:"):
        failures = dict(state.hook_failures)
        if msg.met is False:
            failures[sensor] = msg.detail or msg.value
        else:
            failures.pop(sensor, None)
        blocked = sensor.startswith("hook:before_tool") and msg.met is False
        return replace(
            state,
            hook_failures=failures,
            denials=state.denials + 1 if blocked else state.denials,
        )
    return state


def _toggled(state: ControllerState, msg: HarnessToggled) -> ControllerState:
    if not msg.enabled and state.task_active:
        return replace(state, harness_on=False, cancelled=True)
    return replace(state, harness_on=msg.enabled)


def _turn_finished(state: ControllerState, msg: TurnFinished) -> ControllerState:
    # The core ended the task while the harness had not stopped it: an interrupt, a provider
    # error, or one of the core's own limits. The next decision records why.
    return replace(
        state,
        turn_open=False,
        last_turn_stop=msg.stop_reason,
        ended_by_core=state.task_active,
    )


def _failure_signature(
    checks: Mapping[str, CheckStatus],
) -> tuple[tuple[str, tuple[tuple[str, int], ...], str], ...]:
    return tuple(
        (name, c.counts, c.detail)
        for name, c in sorted(checks.items())
        if c.fresh and c.met is not True
    )


def settle(state: ControllerState) -> ControllerState:
    """Account the finished turn's progress (once): repeats of the same failure, idle turns.

    ``decide`` evaluates rules on the settled state; folding the decision settles the state
    for real, so live decisions and replayed ones see the same numbers.
    """
    if not state.awaiting_settle:
        return state
    signature = _failure_signature(state.checks)
    if not signature:
        repeats = 0
    elif signature == state.last_signature:
        repeats = state.repeats + 1
    else:
        repeats = 1
    idle = state.turn_edits == 0 and state.turn_readings == 0
    point = ProgressPoint(
        turn=state.meters.turns,
        failing_checks=len(signature),
        failures=sum(state.checks[name].failures() for name, _, _ in signature),
    )
    return replace(
        state,
        awaiting_settle=False,
        repeats=repeats,
        idle_turns=state.idle_turns + 1 if idle else 0,
        last_signature=signature,
        turn_edits=0,
        turn_readings=0,
        meters=replace(state.meters, progress=(*state.meters.progress[-49:], point)),
    )


def _decided(state: ControllerState, msg: ControllerDecision) -> ControllerState:
    if msg.mode == "verify":
        # Verification happens inside the turn's end: progress is settled by the next decision.
        return replace(state, last_mode="verify")
    state = settle(state)
    ends = msg.mode in ("stop", "ask_human")
    return replace(
        state,
        last_mode=msg.mode,
        recovering=msg.mode == "recover",
        task_active=state.task_active and not ends,
        last_stop=msg.stop_reason if ends else state.last_stop,
        ended_by_core=False,
        external_edits=(),
        cancelled=False if ends else state.cancelled,
    )


_Handler = Callable[[ControllerState, Any], ControllerState]

_HANDLERS: Final[dict[type[object], _Handler]] = {
    TurnStarted: _turn_started,
    MessageAppended: _message,
    ToolCallFinished: _tool_finished,
    UsageUpdated: _usage,
    ContextCompacted: _compacted,
    ErrorEvent: _error,
    SensorReading: _reading,
    HarnessToggled: _toggled,
    TurnFinished: _turn_finished,
    ControllerDecision: _decided,
}


def fold(state: ControllerState, event: Event | EventMsg) -> ControllerState:
    """Return the state after ``event`` (an envelope or a bare payload). Pure and total."""
    msg = event.msg if isinstance(event, Event) else event
    handler = _HANDLERS.get(type(msg))
    return state if handler is None else handler(state, msg)


def replay(
    events: Iterable[Event | EventMsg], state: ControllerState | None = None
) -> ControllerState:
    """Fold ``events`` in order, from ``state`` or the initial state."""
    return reduce(fold, events, state if state is not None else ControllerState())


def for_resume(state: ControllerState) -> ControllerState:
    """The state a resumed session starts from: readings kept, the harness off and no task.

    A resumed session never restarts a harnessed loop on its own; the human turns it on again.
    """
    return replace(
        state, harness_on=False, task_active=False, turn_open=False, awaiting_settle=False
    )


class Rule(Protocol):
    """A rule of the controller: reads state, returns a partial decision with its reason."""

    @property
    def name(self) -> str:
        """The rule's name, as it appears in decisions."""

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        """Return what this rule asks for, or ``None`` when it does not apply."""


def _why(rule: str, text: str) -> frozenset[tuple[str, str]]:
    return frozenset({(rule, text)})


@dataclass(frozen=True, slots=True)
class _Cancelled:
    name: str = "cancelled"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        if state.cancelled or (state.ended_by_core and state.last_turn_stop == "interrupted"):
            why = "the user interrupted the turn" if not state.cancelled else "harness turned off"
            return Decision(mode="stop", stop_reason="cancelled", rationale=_why(self.name, why))
        return None


@dataclass(frozen=True, slots=True)
class _TurnFailed:
    name: str = "turn.error"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        if state.ended_by_core and state.last_turn_stop == "error":
            why = "the provider failed in a way retrying did not fix"
            return Decision(mode="stop", stop_reason="error", rationale=_why(self.name, why))
        return None


@dataclass(frozen=True, slots=True)
class _EndedByCore:
    name: str = "turn.ended"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        if not state.ended_by_core or state.last_turn_stop in ("interrupted", "error"):
            return None
        why = "the agent core ended the task on its own step or cost limit"
        return Decision(mode="stop", stop_reason="budget_exceeded", rationale=_why(self.name, why))


@dataclass(frozen=True, slots=True)
class _Budget:
    name: str
    meter: str
    describe: Callable[[Meters, HarnessConfig], str]

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        used = budget_use(state.meters, harness)[self.meter]
        if used >= 1.0:
            why = f"{self.describe(state.meters, harness)}: budget spent"
            return Decision(
                mode="stop", stop_reason="budget_exceeded", rationale=_why(self.name, why)
            )
        if used >= NEARLY_SPENT:
            why = f"{self.describe(state.meters, harness)}: {used:.0%} of the budget"
            return Decision(
                mode="continue",
                max_output_tokens=OUTPUT_CAP_NEARLY_SPENT,
                feedback=frozenset({(5, _WRAP_UP.format(why=why))}),
                rationale=_why(self.name, why),
            )
        return None


@dataclass(frozen=True, slots=True)
class _Repeats:
    name: str = "progress.repeats"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        if state.repeats >= harness.max_repeats:
            why = f"the same failure {state.repeats} times in a row"
            return Decision(mode="stop", stop_reason="no_progress", rationale=_why(self.name, why))
        return None


@dataclass(frozen=True, slots=True)
class _Idle:
    name: str = "progress.idle"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        if state.idle_turns >= harness.max_repeats:
            why = f"{state.idle_turns} turns changed no file and gave no new reading"
            return Decision(mode="stop", stop_reason="no_progress", rationale=_why(self.name, why))
        return None


@dataclass(frozen=True, slots=True)
class _Denials:
    name: str = "policy.denied"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        if state.denials >= harness.max_repeats:
            why = f"{state.denials} tool calls in a row were refused by policy or a hook"
            return Decision(
                mode="stop", stop_reason="blocked_by_policy", rationale=_why(self.name, why)
            )
        return None


@dataclass(frozen=True, slots=True)
class _Recover:
    name: str = "recover"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        streak = state.meters.error_streak
        if streak >= harness.recover_after:
            why = f"{streak} tool calls or requests failed in a row"
            note = (
                f"{streak} of your tool calls failed in a row. Stop editing: use the read-only "
                "tools to find out why, explain the cause, then propose the fix."
            )
            return Decision(
                mode="recover",
                tools=READ_ONLY_TOOLS,
                approval_mode="plan",
                feedback=frozenset({(1, note)}),
                rationale=_why(self.name, why),
            )
        if state.recovering:
            why = "tool calls succeed again; the full tool set is restored"
            return Decision(mode="continue", rationale=_why(f"{self.name}.exit", why))
        return None


@dataclass(frozen=True, slots=True)
class _Context:
    name: str = "context"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        gauge = state.meters.context
        if not gauge.high:
            return None
        if not state.compacted_since_high:
            why = (
                f"context at {gauge.pressure:.0%} of the window (compacts from {COMPACT_ENTER:.0%})"
            )
            return Decision(
                mode="compact", compact=True, rationale=_why(f"{self.name}.compact", why)
            )
        why = f"context still at {gauge.pressure:.0%} after compaction"
        return Decision(
            mode="ask_human", stop_reason="needs_user", rationale=_why(f"{self.name}.full", why)
        )


@dataclass(frozen=True, slots=True)
class _Verify:
    name: str = "checks.verify"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        stale = state.stale_checks()
        if not stale:
            return None
        names = ", ".join(stale)
        why = (
            f"the agent says it is done but {names} must run first"
            if state.claimed_done
            else f"{names} must be read before deciding"
        )
        return Decision(mode="verify", run_checks=frozenset(stale), rationale=_why(self.name, why))


@dataclass(frozen=True, slots=True)
class _Unmet:
    name: str = "checks.unmet"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        unmet = state.unmet_checks()
        if not unmet:
            return None
        why = f"{', '.join(unmet)} not met"
        return Decision(mode="continue", rationale=_why(self.name, why))


@dataclass(frozen=True, slots=True)
class _Question:
    name: str = "agent.asks"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        if state.agent_question and state.unmet_checks():
            why = "the agent stopped to ask a question while checks are unmet"
            return Decision(
                mode="ask_human", stop_reason="needs_user", rationale=_why(self.name, why)
            )
        return None


@dataclass(frozen=True, slots=True)
class _Completed:
    name: str = "checks.met"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        if not state.claimed_done or state.stale_checks() or state.unmet_checks():
            return None
        why = (
            f"all {len(state.checks)} checks met"
            if state.checks
            else "the agent finished and no check is configured"
        )
        return Decision(mode="stop", stop_reason="completed", rationale=_why(self.name, why))


@dataclass(frozen=True, slots=True)
class _ExternalEdits:
    name: str = "watch.external_edit"

    def evaluate(self, state: ControllerState, harness: HarnessConfig) -> Decision | None:
        del harness
        if not state.external_edits:
            return None
        paths = ", ".join(state.external_edits)
        note = f"The user changed {paths} after you read it; read it again before editing it."
        return Decision(
            mode="continue",
            feedback=frozenset({(2, note)}),
            rationale=_why(self.name, f"{paths} changed outside the agent"),
        )


def _turns(meters: Meters, harness: HarnessConfig) -> str:
    return f"{meters.turns} of {harness.max_turns} turns"


def _cost(meters: Meters, harness: HarnessConfig) -> str:
    return f"${meters.cost_usd:.2f} of ${harness.max_cost_usd:g}"


def _tokens(meters: Meters, harness: HarnessConfig) -> str:
    return f"{meters.tokens:,} of {harness.max_tokens:,} tokens"


def _minutes(meters: Meters, harness: HarnessConfig) -> str:
    return f"{meters.minutes:.1f} of {harness.max_minutes:g} minutes"


DEFAULT_RULES: Final[tuple[Rule, ...]] = (
    _Cancelled(),
    _TurnFailed(),
    _EndedByCore(),
    _Budget("budget.turns", "turns", _turns),
    _Budget("budget.cost", "cost", _cost),
    _Budget("budget.tokens", "tokens", _tokens),
    _Budget("budget.time", "minutes", _minutes),
    _Repeats(),
    _Idle(),
    _Denials(),
    _Recover(),
    _Context(),
    _Verify(),
    _Question(),
    _Unmet(),
    _Completed(),
    _ExternalEdits(),
)
"""The rules ``decide`` consults. Order does not matter: their decisions merge."""


def decide(
    state: ControllerState,
    harness: HarnessConfig,
    *,
    rules: Iterable[Rule] = DEFAULT_RULES,
) -> Decision:
    """Evaluate every rule on the settled state and merge what fired."""
    settled = settle(state)
    fired = (rule.evaluate(settled, harness) for rule in rules)
    return merge_all(d for d in fired if d is not None)


def to_event(decision: Decision, feedback: str | None = None) -> ControllerDecision:
    """The ``ControllerDecision`` event that records ``decision`` (and the feedback sent)."""
    return ControllerDecision(
        mode=decision.mode,
        rules=decision.rules,
        rationale=decision.explain(),
        stop_reason=decision.stop_reason,
        feedback=feedback,
        gate_tools=tuple(sorted(decision.tools)) if decision.tools is not None else None,
        gate_mode=decision.approval_mode,
        max_output_tokens=decision.max_output_tokens,
        compact=decision.compact,
        run_checks=tuple(sorted(decision.run_checks)),
    )
