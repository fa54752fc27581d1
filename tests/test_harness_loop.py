"""The harness loop end to end: the scripted model, the real agent core, real pytest checks.

Each test builds a real project in a tmp dir (a module and its pytest tests), a ``Harness`` whose
check runs pytest, and a core driven by the scripted provider whose steps write files. The model's
edits make the check stale; the harness verifies, decides and answers the core's loop.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import pytest

from arcan_core.agent.state import TurnLimits
from arcan_core.config.model import ArcanConfig, CheckConfig, HarnessConfig
from arcan_core.harness.loop import Harness
from arcan_core.harness.setpoints import Setpoints
from arcan_core.protocol.events import ControllerDecision, Event, EventMsg, SensorReading
from arcan_core.protocol.operations import Shutdown, SubmitPrompt
from tests.agent_support import FileTools, collect_turn, options, start

if TYPE_CHECKING:
    from pathlib import Path

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"

BROKEN = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n"
ADD_FIXED = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b\n"
ALL_FIXED = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
TESTS = (
    "from calc import add, sub\n\n\n"
    "def test_add():\n    assert add(2, 2) == 4\n\n\n"
    "def test_sub():\n    assert sub(3, 1) == 2\n"
)


def project(root: Path, calc: str = BROKEN) -> Path:
    (root / "calc.py").write_text(calc)
    (root / "test_calc.py").write_text(TESTS)
    return root


def setpoints(**budgets: Any) -> Setpoints:
    check = CheckConfig(command=PYTEST, target="failures == 0", timeout_s=60, watch=("**/*.py",))
    harness = HarnessConfig(checks={"tests": check}, **budgets)
    return Setpoints(harness=harness, source="configured")


def write(text: str, *, usage: dict[str, int] | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {
        "tool_calls": [{"name": "write", "args": {"path": "calc.py", "text": text}}]
    }
    if usage:
        step["usage"] = usage
    return step


def said(text: str) -> dict[str, Any]:
    return {"text": text}


async def run_task(
    root: Path, harness: Harness, steps: list[dict[str, Any]], *, repeat: bool = False
) -> list[Event]:
    """Run one harnessed task through the real core; return its events."""
    await harness.start(watch=False)
    opts = options(
        root,
        None,
        tools=FileTools(root, mode="full-auto"),
        supervisor=harness,
        harness_enabled=True,
        limits=TurnLimits(max_steps=60),
        config=ArcanConfig(provider="scripted", mode="full-auto"),
    )
    from tests.agent_support import scripted  # noqa: PLC0415

    core = await start(opts.replace(provider=scripted(steps, repeat=repeat)))
    events = core.subscribe()
    try:
        core.submit(SubmitPrompt(text="make the tests pass"))
        seen = await asyncio.wait_for(collect_turn(core, events), 60)
    finally:
        core.submit(Shutdown())
        await core.wait_closed()
        await harness.close()
    return seen


def decisions(events: list[Event]) -> list[ControllerDecision]:
    return [e.msg for e in events if isinstance(e.msg, ControllerDecision)]


async def test_fixing_one_test_per_turn_converges_to_completed(tmp_path: Path) -> None:
    root = project(tmp_path)
    harness = Harness(setpoints(), root)
    steps = [write(ADD_FIXED), said("fixed add"), write(ALL_FIXED), said("fixed sub")]
    events = await run_task(root, harness, steps)
    made = decisions(events)
    assert harness.outcome == "completed"
    assert made[-1].mode == "stop"
    assert made[-1].stop_reason == "completed"
    # The first turn's end fed back exactly the remaining failure.
    feedback = [d.feedback for d in made if d.mode == "continue"]
    assert len(feedback) == 1
    assert feedback[0] is not None
    assert "test_sub" in feedback[0]
    assert "test_add" not in feedback[0].split("(before")[0].split("## tests")[1]
    # The agent claimed done while the edit had made the check stale: it was made to verify.
    assert [d.mode for d in made].count("verify") == 2
    assert harness.all_met


async def test_no_improvement_stops_as_no_progress(tmp_path: Path) -> None:
    root = project(tmp_path)
    harness = Harness(setpoints(max_repeats=3), root)
    events = await run_task(root, harness, [write(BROKEN), said("try again")], repeat=True)
    made = decisions(events)
    assert harness.outcome == "no_progress"
    assert made[-1].rules == ("checks.unmet", "progress.repeats")
    assert sum(1 for d in made if d.mode == "continue") == 2


@pytest.mark.parametrize(
    ("budgets", "usage", "rule"),
    [
        ({"max_turns": 2}, None, "budget.turns"),
        ({"max_cost_usd": 1.0}, {"input_tokens": 400_000, "output_tokens": 10}, "budget.cost"),
        ({"max_tokens": 50_000}, {"input_tokens": 30_000, "output_tokens": 10}, "budget.tokens"),
    ],
)
async def test_each_budget_stops_the_loop(
    tmp_path: Path, budgets: dict[str, Any], usage: dict[str, int] | None, rule: str
) -> None:
    root = project(tmp_path)
    harness = Harness(setpoints(**budgets), root)
    steps = [write(ADD_FIXED, usage=usage), said("working")]
    events = await run_task(root, harness, steps, repeat=True)
    assert harness.outcome == "budget_exceeded"
    assert rule in decisions(events)[-1].rules


async def test_time_budget_stops_the_loop(tmp_path: Path) -> None:
    root = project(tmp_path)
    ticks = iter(range(0, 10**6, 1000))  # each look at the clock is 1000 s later
    harness = Harness(setpoints(max_minutes=30), root, clock=lambda: float(next(ticks)))
    events = await run_task(root, harness, [write(ADD_FIXED), said("working")], repeat=True)
    assert harness.outcome == "budget_exceeded"
    assert "budget.time" in decisions(events)[-1].rules


async def test_error_streak_enters_recover_and_leaves_it(tmp_path: Path) -> None:
    root = project(tmp_path, ALL_FIXED)
    harness = Harness(setpoints(), root)
    missing = {"name": "read", "args": {"path": "nope.py"}}
    steps = [
        {"tool_calls": [missing, missing, missing]},
        {"tool_calls": [{"name": "read", "args": {"path": "calc.py"}}]},
        said("The file name was wrong; everything passes."),
    ]
    events = await run_task(root, harness, steps)
    made = decisions(events)
    modes = [d.mode for d in made]
    assert modes[0] == "recover"
    assert made[0].gate_mode == "plan"
    assert made[0].gate_tools is not None
    assert "write" not in made[0].gate_tools
    assert "recover.exit" in made[1].rules
    assert made[1].gate_tools is None
    assert harness.outcome == "completed"


async def test_human_edit_breaking_a_test_is_seen_and_reported(tmp_path: Path) -> None:
    root = project(tmp_path, ALL_FIXED)
    readings: list[EventMsg] = []
    changed = asyncio.Event()

    def sink(msg: EventMsg) -> None:
        readings.append(msg)
        if isinstance(msg, SensorReading) and (msg.sensor, msg.status) == ("check:tests", "unmet"):
            changed.set()

    harness = Harness(setpoints(), root, emit=sink)
    harness.reads.record("calc.py")  # the agent had read the file
    await harness.start()
    try:
        await harness.live.wait_idle()
        assert harness.all_met
        await harness.watcher_ready()
        (root / "calc.py").write_text(BROKEN)  # the human, in their editor
        await asyncio.wait_for(changed.wait(), 30)
    finally:
        await harness.close()
    unmet = [r for r in readings if isinstance(r, SensorReading) and r.status == "unmet"]
    assert any(r.sensor == "check:tests" and "test_add" in r.detail for r in unmet)
    assert any(r.sensor == "watch:external_edit" and r.value == "calc.py" for r in unmet)
    assert harness.reads.notice_before_edit("calc.py") is not None
    feedback = harness.feedback_now()
    assert feedback is not None
    assert "test_add" in feedback
    assert "changed calc.py after you read it" in feedback


async def test_a_resumed_session_knows_the_readings_but_does_not_restart_the_loop(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    first = Harness(setpoints(), root)
    logged: list[Event] = []
    steps = [
        write(ADD_FIXED),
        said("fixed add"),
        {"error": {"type": "bad_request", "message": "x"}},
    ]
    logged = await run_task(root, first, steps)
    assert first.outcome == "error"
    resumed = Harness.resumed(setpoints(), root, logged)
    assert not resumed.state.harness_on
    assert not resumed.state.task_active
    assert resumed.state.unmet_checks() == ("tests",)
    assert resumed.state.checks["tests"] == first.state.checks["tests"]
    feedback = resumed.feedback_now()
    assert feedback is not None
    assert "test_sub" in feedback
