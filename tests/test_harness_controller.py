"""The controller: fold determinism under replay, the decision lattice, hysteresis, every stop."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcan_core.config.model import HarnessConfig
from arcan_core.harness.actuators import directive_for, feedback_message
from arcan_core.harness.controller import (
    MODE_ORDER,
    READ_ONLY_TOOLS,
    STOP_ORDER,
    ControllerState,
    Decision,
    decide,
    fold,
    for_resume,
    replay,
    to_event,
)
from arcan_core.harness.meters import COMPACT_ENTER, COMPACT_RELEASE, ContextGauge, time_reading
from arcan_core.protocol.events import (
    ContextCompacted,
    ControllerDecision,
    ErrorEvent,
    EventMsg,
    HarnessToggled,
    MessageAppended,
    SensorReading,
    ToolCallFinished,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import Message, TextBlock, ToolUseBlock, Usage

Status = Literal["met", "unmet", "stale", "running"]
HARNESS = HarnessConfig(max_turns=10, max_cost_usd=1.0, max_tokens=100_000, max_repeats=3)


def _said(text: str) -> MessageAppended:
    return MessageAppended(message=Message(role="assistant", content=(TextBlock(text=text),)))


def _calls(name: str = "read") -> MessageAppended:
    use = ToolUseBlock(id="c1", name=name, input={"path": "a.py"})
    return MessageAppended(message=Message(role="assistant", content=(use,)))


def _check(status: Status, detail: str = "", failures: int = 0) -> SensorReading:
    met = {"met": True, "unmet": False}.get(status)
    counts = {"failures": failures} if status in ("met", "unmet") else {}
    return SensorReading(
        sensor="check:tests",
        setpoint="exit0",
        status=status,
        met=met,
        value=f"{failures} failures",
        counts=counts,
        detail=detail,
    )


def _task(*events: EventMsg) -> ControllerState:
    start: list[EventMsg] = [HarnessToggled(enabled=True), TurnStarted(turn_id="t", prompt="go")]
    return replay([*start, *events])


def _tool(*, error: bool = False, denied: bool = False, name: str = "bash") -> ToolCallFinished:
    return ToolCallFinished(call_id="c", name=name, result="x", is_error=error, denied=denied)


# -- the lattice -------------------------------------------------------------------------------

TOOLS = st.frozensets(st.sampled_from(["read", "grep", "write", "edit", "bash"]))
decisions = st.builds(
    Decision,
    mode=st.sampled_from(list(MODE_ORDER)),
    stop_reason=st.sampled_from(list(STOP_ORDER)),
    tools=st.none() | TOOLS,
    approval_mode=st.sampled_from([None, "full-auto", "auto-edit", "ask", "plan"]),
    max_output_tokens=st.none() | st.integers(1, 10_000),
    compact=st.booleans(),
    run_checks=st.frozensets(st.sampled_from(["tests", "lint", "types"])),
    feedback=st.frozensets(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b", "c"]))),
    rationale=st.frozensets(st.tuples(st.sampled_from(["r1", "r2"]), st.sampled_from(["x", "y"]))),
)


@given(decisions, decisions)
def test_merge_is_commutative(a: Decision, b: Decision) -> None:
    assert a.merge(b) == b.merge(a)


@given(decisions, decisions, decisions)
def test_merge_is_associative(a: Decision, b: Decision, c: Decision) -> None:
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


@given(decisions, decisions)
def test_merge_only_tightens(a: Decision, b: Decision) -> None:
    merged = a.merge(b)
    assert merged.at_least_as_strict_as(a)
    assert merged.at_least_as_strict_as(b)
    assert a.merge(a) == a


@given(decisions, decisions, decisions)
def test_merge_is_monotone(a: Decision, b: Decision, c: Decision) -> None:
    tighter = a.merge(b)  # tighter is at least as strict as a
    assert tighter.merge(c).at_least_as_strict_as(a.merge(c))


# -- the fold ----------------------------------------------------------------------------------

usage_events = st.builds(
    UsageUpdated,
    usage=st.builds(Usage, input_tokens=st.integers(0, 50_000), output_tokens=st.integers(0, 5000)),
    session_usage=st.just(Usage()),
    cost_usd=st.floats(0, 0.5),
    context_tokens=st.integers(0, 200_000),
    context_window=st.sampled_from([0, 200_000]),
)
check_events = st.builds(
    _check,
    st.sampled_from(["met", "unmet", "stale", "running"]),
    st.sampled_from(["", "- test_a failed", "- test_b failed"]),
    st.integers(0, 3),
)
tool_events = st.builds(_tool, error=st.booleans(), denied=st.booleans())
stream_events: st.SearchStrategy[EventMsg] = st.one_of(
    usage_events,
    check_events,
    tool_events,
    st.just(_said("done")),
    st.just(_said("should I?")),
    st.just(_calls()),
    st.just(TurnStarted(turn_id="t", prompt="p")),
    st.just(TurnFinished(turn_id="t", stop_reason="end_turn")),
    st.builds(HarnessToggled, enabled=st.booleans()),
    st.just(ErrorEvent(kind="NetworkError", message="down")),
    st.builds(
        ContextCompacted,
        summary=st.just(Message(role="user", content=())),
        replaced=st.just(3),
        tokens_after=st.integers(0, 200_000),
    ),
    st.builds(time_reading, st.floats(0, 7200), st.just(HARNESS)),
)


@st.composite
def logs(draw: st.DrawFn) -> list[EventMsg]:
    """Event streams with the controller's own decisions interleaved, as a live session logs."""
    events: list[EventMsg] = []
    state = ControllerState()
    for event in draw(st.lists(stream_events, max_size=40)):
        events.append(event)
        state = fold(state, event)
        if draw(st.booleans()):
            decision = to_event(decide(state, HARNESS))
            events.append(decision)
            state = fold(state, decision)
    return events


@given(logs())
def test_replay_rebuilds_the_live_state(events: list[EventMsg]) -> None:
    live = ControllerState()
    for event in events:
        live = fold(live, event)
    # Replaying the same log, also through JSON (as the session store does), gives the same state.
    assert replay(events) == live
    from pydantic import TypeAdapter  # noqa: PLC0415

    adapter: TypeAdapter[Any] = TypeAdapter(EventMsg)
    reloaded = [adapter.validate_json(adapter.dump_json(event)) for event in events]
    assert replay(reloaded) == live


@given(st.lists(st.integers(0, 250_000), max_size=60))
def test_context_hysteresis_never_flaps(samples: list[int]) -> None:
    gauge = ContextGauge(window=200_000)
    for tokens in samples:
        before = gauge.high
        gauge = gauge.update(tokens, 200_000)
        pressure = tokens / 200_000
        if gauge.high and not before:
            assert pressure >= COMPACT_ENTER
        if before and not gauge.high:
            assert pressure < COMPACT_RELEASE
        if COMPACT_RELEASE <= pressure < COMPACT_ENTER:
            assert gauge.high == before


BAND = st.integers(round(COMPACT_RELEASE * 1000), round(COMPACT_ENTER * 1000) - 1)


@given(st.lists(BAND, max_size=30), st.booleans())
def test_inside_the_band_nothing_changes(tokens: list[int], start_high: bool) -> None:
    gauge = ContextGauge(tokens=0, window=1000, high=start_high)
    for used in tokens:
        gauge = gauge.update(used, 1000)
        assert gauge.high == start_high


# -- rules and stop reasons ----------------------------------------------------------------------


def test_unmet_check_continues_with_feedback() -> None:
    state = _task(_check("unmet", "- test_a failed: assert 1 == 2", 1), _said("done"))
    decision = decide(state, HARNESS)
    assert decision.mode == "continue"
    assert decision.rules == ("checks.unmet",)
    text = feedback_message(state, decision)
    assert text is not None
    assert "test_a failed: assert 1 == 2" in text
    directive, sent = directive_for(state, decision, model_stopped=True)
    assert directive.action == "continue"
    assert directive.feedback == sent == text


def test_all_met_completes() -> None:
    state = _task(_check("met"), _said("done"))
    decision = decide(state, HARNESS)
    assert (decision.mode, decision.stop_reason) == ("stop", "completed")


def test_claiming_done_with_stale_checks_verifies_first() -> None:
    state = _task(_check("met"), _check("stale"), _said("all fixed"))
    decision = decide(state, HARNESS)
    assert decision.mode == "verify"
    assert decision.run_checks == {"tests"}
    assert "says it is done" in decision.explain()


def test_same_failure_stops_as_no_progress_after_max_repeats() -> None:
    events: list[EventMsg] = []
    reasons = []
    state = _task()
    for turn in range(3):
        events = [_check("stale"), _check("unmet", "- test_a failed", 1), _said(f"try {turn}")]
        state = replay(events, state)
        decision = decide(state, HARNESS)
        reasons.append(decision.stop_reason)
        state = fold(state, to_event(decision))
    assert reasons == [None, None, "no_progress"]


def test_idle_turns_stop_as_no_progress() -> None:
    state = _task(_check("unmet", "- a", 1))
    modes = []
    for _ in range(3):
        state = fold(state, _said("hmm"))
        decision = decide(state, HARNESS)
        modes.append(decision.stop_reason)
        state = fold(state, to_event(decision))
    assert modes == [None, None, "no_progress"]


@pytest.mark.parametrize(
    ("event", "rule"),
    [
        (UsageUpdated(usage=Usage(input_tokens=100_000), session_usage=Usage()), "budget.tokens"),
        (
            UsageUpdated(usage=Usage(), session_usage=Usage(), cost_usd=1.5),
            "budget.cost",
        ),
        (time_reading(3601, HARNESS), "budget.time"),
    ],
)
def test_each_budget_stops(event: EventMsg, rule: str) -> None:
    state = _task(_check("unmet", "- a", 1), event, _calls())
    decision = decide(state, HARNESS)
    assert (decision.mode, decision.stop_reason) == ("stop", "budget_exceeded")
    assert rule in decision.rules


def test_turn_budget_stops() -> None:
    rounds: list[EventMsg] = [_check("unmet", "- a", 1), _said("x")]
    state = _task(*(rounds * 10))
    decision = decide(state, HARNESS)
    assert decision.stop_reason == "budget_exceeded"
    assert "budget.turns" in decision.rules


def test_nearly_spent_caps_output() -> None:
    state = _task(UsageUpdated(usage=Usage(input_tokens=85_000), session_usage=Usage()))
    decision = decide(state, HARNESS)
    assert decision.max_output_tokens == 4096
    assert any("Wrap up" in note for note in decision.notes())


def test_error_streak_enters_recover_and_leaves_it() -> None:
    state = _task(_tool(error=True), _tool(error=True), _tool(error=True))
    decision = decide(state, HARNESS)
    assert decision.mode == "recover"
    assert decision.tools == READ_ONLY_TOOLS
    assert decision.approval_mode == "plan"
    directive, _ = directive_for(state, decision, model_stopped=False)
    assert directive.action == "recover"
    assert directive.allowed_tools == tuple(sorted(READ_ONLY_TOOLS))
    state = fold(state, to_event(decision))
    state = fold(state, _tool(name="read"))
    leaving = decide(state, HARNESS)
    assert leaving.mode != "recover"
    assert "recover.exit" in leaving.rules
    assert leaving.tools is None


def test_context_pressure_compacts_then_asks_if_still_full() -> None:
    full = UsageUpdated(
        usage=Usage(), session_usage=Usage(), context_tokens=180_000, context_window=200_000
    )
    state = _task(full, _calls())
    decision = decide(state, HARNESS)
    assert decision.mode == "compact"
    assert decision.compact
    summary = Message(role="user", content=(TextBlock(text="summary"),))
    still = fold(state, ContextCompacted(summary=summary, replaced=4, tokens_after=175_000))
    assert decide(still, HARNESS).stop_reason == "needs_user"
    relieved = fold(state, ContextCompacted(summary=summary, replaced=4, tokens_after=50_000))
    assert decide(relieved, HARNESS).mode != "compact"


def test_denials_stop_as_blocked_by_policy() -> None:
    state = _task(_tool(denied=True, name="write"), _tool(denied=True), _tool(denied=True))
    assert decide(state, HARNESS).stop_reason == "blocked_by_policy"


def test_interrupt_is_cancelled_and_provider_failure_is_error() -> None:
    cut = _task(TurnFinished(turn_id="t", stop_reason="interrupted"))
    assert decide(cut, HARNESS).stop_reason == "cancelled"
    broken = _task(TurnFinished(turn_id="t", stop_reason="error"))
    assert decide(broken, HARNESS).stop_reason == "error"
    off = _task(HarnessToggled(enabled=False))
    assert decide(off, HARNESS).stop_reason == "cancelled"


def test_agent_question_asks_the_human() -> None:
    state = _task(_check("unmet", "- a", 1), _said("Should I delete the database?"))
    decision = decide(state, HARNESS)
    assert decision.mode == "ask_human"
    assert decision.stop_reason == "needs_user"


def test_decision_event_names_rules_and_rationale() -> None:
    state = _task(_check("unmet", "- a", 1), _said("done"))
    event = to_event(decide(state, HARNESS), "feedback")
    assert isinstance(event, ControllerDecision)
    assert event.rules == ("checks.unmet",)
    assert "tests not met" in event.rationale


def test_resume_keeps_readings_but_not_the_loop() -> None:
    state = _task(_check("unmet", "- a", 1))
    resumed = for_resume(state)
    assert not resumed.harness_on
    assert not resumed.task_active
    assert resumed.checks == state.checks
    # A prompt after resume is not a harnessed task until the human turns the harness on.
    assert not fold(resumed, TurnStarted(turn_id="u", prompt="p")).task_active
