"""The core's own harness: live readings, ``SetHarness``, resume, hooks and the stale-edit guard.

Every test opens a real core (``open_core``) on a real temp project with a configured pytest
check; the scripted model's tool calls go through ``FileTools`` (real files), and the harness is
the one ``open_core`` builds, not one the test hands in.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import pytest

from arcan_core.config.model import ArcanConfig, CheckConfig, HarnessConfig, HookConfig
from arcan_core.harness.loop import Harness
from arcan_core.protocol.events import (
    ControllerDecision,
    Event,
    HarnessToggled,
    SensorReading,
    ToolCallFinished,
    TurnFinished,
)
from arcan_core.protocol.operations import SetHarness, Shutdown, SubmitPrompt
from tests.agent_support import FileTools, collect_turn, options, start
from tests.test_harness_loop import ALL_FIXED, PYTEST, project, said, write

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from arcan_core.agent.daemon import CoreDaemon

PY = sys.executable


def config(**harness: Any) -> ArcanConfig:
    check = CheckConfig(command=PYTEST, target="failures == 0", timeout_s=60, watch=("**/*.py",))
    table = HarnessConfig(checks={"tests": check}, **harness)
    return ArcanConfig(provider="scripted", mode="full-auto", harness=table)


async def until(events: AsyncIterator[Event], wanted: Callable[[Event], bool]) -> list[Event]:
    """Read events until one is ``wanted``; return them all."""
    seen: list[Event] = []
    async for event in events:
        seen.append(event)
        if wanted(event):
            return seen
    raise AssertionError("the core closed before the awaited event")


def check_read(met: bool) -> Callable[[Event], bool]:
    def wanted(event: Event) -> bool:
        msg = event.msg
        return isinstance(msg, SensorReading) and msg.sensor == "check:tests" and msg.met is met

    return wanted


async def open_(root: Path, steps: list[dict[str, Any]], **changes: Any) -> CoreDaemon:
    tools = changes.pop("tools", None) or FileTools(root, mode="full-auto")
    opts = options(root, steps, tools=tools, config=changes.pop("config", config()), **changes)
    return await start(opts)


async def close(core: CoreDaemon) -> None:
    core.submit(Shutdown())
    await asyncio.wait_for(core.wait_closed(), 30)


async def test_readings_are_live_with_the_harness_off(tmp_path: Path) -> None:
    root = project(tmp_path)
    core = await open_(root, [])
    try:
        harness = core.supervisor
        assert isinstance(harness, Harness)
        events = core.subscribe()
        await asyncio.wait_for(until(events, check_read(met=False)), 60)
        await asyncio.wait_for(harness.watcher_ready(), 30)
        # The human fixes the code in their editor: the watcher re-runs the check.
        (root / "calc.py").write_text(ALL_FIXED)
        await asyncio.wait_for(until(events, check_read(met=True)), 60)
    finally:
        await close(core)
    # The live harness was closed with the core: its watcher and checks are gone.
    assert harness.live.names == ("tests",)
    await asyncio.wait_for(harness.live.wait_idle(), 5)


async def test_no_live_checks_when_turned_off_or_none_detected(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    root = project(tmp_path / "project")
    off = await open_(root, [], live_checks=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("nothing to check here\n")
    none = await open_(tmp_path / "notes", [], config=ArcanConfig(provider="scripted"))
    try:
        assert off.supervisor is None
        assert none.supervisor is None
    finally:
        await close(off)
        await close(none)


async def test_set_harness_drives_the_next_task_with_the_same_harness(tmp_path: Path) -> None:
    root = project(tmp_path)
    core = await open_(root, [write(ALL_FIXED), said("fixed both")], persist=True)
    try:
        harness = core.supervisor
        assert isinstance(harness, Harness)
        events = core.subscribe()
        core.submit(SetHarness(enabled=True))
        core.submit(SubmitPrompt(text="make the tests pass"))
        seen = await asyncio.wait_for(collect_turn(core, events), 60)
    finally:
        await close(core)
    made = [e.msg for e in seen if isinstance(e.msg, ControllerDecision)]
    assert made
    assert made[-1].stop_reason == "completed"
    assert harness.outcome == "completed"
    assert core.supervisor is harness


async def test_a_resumed_session_starts_with_the_harness_off(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = await open_(root, [said("hello")], persist=True)
    events = first.subscribe()
    first.submit(SetHarness(enabled=True))
    first.submit(SubmitPrompt(text="hi"))
    before = await asyncio.wait_for(collect_turn(first, events), 60)
    await close(first)
    # The harness drove that task (so its log ends with the harness on).
    assert any(isinstance(e.msg, ControllerDecision) for e in before)

    again = await open_(root, [said("resumed")], persist=True, resume="continue")
    try:
        assert again.session_id == first.session_id
        events = again.subscribe(replay=True)
        again.submit(SubmitPrompt(text="go on"))
        seen: list[Event] = []
        while sum(isinstance(e.msg, TurnFinished) for e in seen) < 2:
            seen += await asyncio.wait_for(
                until(events, lambda e: isinstance(e.msg, TurnFinished)), 60
            )
    finally:
        await close(again)
    toggles = [i for i, e in enumerate(seen) if isinstance(e.msg, HarnessToggled)]
    last = seen[toggles[-1]]
    assert isinstance(last.msg, HarnessToggled)
    assert last.msg.enabled is False
    assert not any(isinstance(e.msg, ControllerDecision) for e in seen[toggles[-1] :])


@pytest.mark.parametrize("live", [True, False])
async def test_a_before_tool_hook_blocks_with_its_reason(tmp_path: Path, live: bool) -> None:
    root = project(tmp_path)
    (root / "guard.py").write_text(
        "import json, sys\n"
        "if json.load(sys.stdin)['input'].get('path') == 'calc.py':\n"
        "    print('calc.py is frozen'); sys.exit(1)\n"
    )
    hooks = (HookConfig(event="before_tool", command=f"{PY} guard.py", tools=("write",)),)
    tools = FileTools(root, mode="full-auto")
    core = await open_(
        root,
        [write(ALL_FIXED), said("done")],
        tools=tools,
        config=config(hooks=hooks),
        live_checks=live,
    )
    try:
        events = core.subscribe()
        core.submit(SubmitPrompt(text="fix it"))
        seen = await asyncio.wait_for(collect_turn(core, events), 60)
    finally:
        await close(core)
    finished = [e.msg for e in seen if isinstance(e.msg, ToolCallFinished)]
    assert len(finished) == 1
    assert finished[0].denied
    assert "calc.py is frozen" in finished[0].result
    assert tools.calls == []  # the blocked call never reached the tools
    assert "return a - b" in (root / "calc.py").read_text()


async def test_an_edit_of_a_file_the_human_changed_is_refused_once(tmp_path: Path) -> None:
    root = project(tmp_path)
    tools = FileTools(root, mode="full-auto")
    steps = [
        {"tool_calls": [{"name": "read", "args": {"path": "calc.py"}}]},
        {"tool_calls": [{"name": "slow", "args": {}}]},
        write(ALL_FIXED),
        write(ALL_FIXED),
        said("done"),
    ]
    core = await open_(root, steps, tools=tools)
    try:
        harness = core.supervisor
        assert isinstance(harness, Harness)
        events = core.subscribe()
        await asyncio.wait_for(harness.watcher_ready(), 30)
        core.submit(SubmitPrompt(text="fix it"))
        await asyncio.wait_for(tools.started.wait(), 30)
        # While the agent waits, the human edits the file it read.
        (root / "calc.py").write_text("# the human's version\n")

        def flagged(event: Event) -> bool:
            msg = event.msg
            return isinstance(msg, SensorReading) and msg.sensor == "watch:external_edit"

        await asyncio.wait_for(until(events, flagged), 30)
        tools.release.set()
        seen = await asyncio.wait_for(collect_turn(core, events), 60)
    finally:
        await close(core)
    writes = [e.msg for e in seen if isinstance(e.msg, ToolCallFinished) and e.msg.name == "write"]
    assert [w.denied for w in writes] == [True, False]
    assert "changed by someone else" in writes[0].result
    assert tools.calls == ["read", "slow", "write"]
