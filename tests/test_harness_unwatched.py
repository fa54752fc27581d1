"""A check with ``watch = []`` must still be read within each task before it is declared done.

No file change makes such a check stale; ``--until-green`` used to trust a reading from before the
task.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from arcan_core.agent.state import TurnLimits
from arcan_core.config.model import ArcanConfig, CheckConfig, HarnessConfig
from arcan_core.harness.loop import Harness
from arcan_core.harness.setpoints import Setpoints
from arcan_core.protocol.operations import Shutdown, SubmitPrompt
from tests.agent_support import FileTools, collect_turn, options, scripted, start
from tests.test_harness_loop import ALL_FIXED, PYTEST, decisions, project, said, write

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.protocol.events import Event


async def run_task(root: Path, harness: Harness, steps: list[dict[str, Any]]) -> list[Event]:
    """Run one harnessed task without re-reading the checks at its start.

    Unlike ``test_harness_loop.run_task``: only the harness's own staleness decides what runs.
    """
    opts = options(
        root,
        None,
        tools=FileTools(root, mode="full-auto"),
        supervisor=harness,
        harness_enabled=True,
        limits=TurnLimits(max_steps=60),
        config=ArcanConfig(provider="scripted", mode="full-auto"),
    )
    core = await start(opts.replace(provider=scripted(steps)))
    events = core.subscribe()
    try:
        core.submit(SubmitPrompt(text="make the tests pass"))
        return await asyncio.wait_for(collect_turn(core, events), 60)
    finally:
        core.submit(Shutdown())
        await core.wait_closed()
        await harness.close()


def unwatched() -> Setpoints:
    check = CheckConfig(command=PYTEST, target="failures == 0", timeout_s=60, watch=())
    return Setpoints(harness=HarnessConfig(checks={"tests": check}), source="configured")


async def test_an_edit_makes_an_unwatched_check_run_before_done(tmp_path: Path) -> None:
    root = project(tmp_path)
    harness = Harness(unwatched(), root)
    # The reading before the task: failing, and nothing will ever match its (empty) globs.
    await harness.start(watch=False)
    await harness.live.wait_idle()
    assert harness.live.last["tests"].met is False
    events = await run_task(root, harness, [write(ALL_FIXED), said("fixed both")])
    made = decisions(events)
    assert [d.mode for d in made].count("verify") == 1
    assert harness.outcome == "completed"
    assert harness.all_met


async def test_a_reading_from_before_the_task_is_not_taken_as_done(tmp_path: Path) -> None:
    # The project is already green, but the task must still read the check itself once.
    root = project(tmp_path, ALL_FIXED)
    harness = Harness(unwatched(), root)
    await harness.start(watch=False)
    await harness.live.wait_idle()
    first = harness.live.last["tests"]
    events = await run_task(root, harness, [said("nothing to do")])
    made = decisions(events)
    assert made[0].mode == "verify"
    assert harness.outcome == "completed"
    assert harness.live.last["tests"] is not first
