"""The type-state lifecycle: wrong transitions are type errors, stale states refuse to move."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from arcan_core.agent.session import open_core
from arcan_core.protocol.operations import Shutdown
from tests.agent_support import options

if TYPE_CHECKING:
    from pathlib import Path

WRONG = textwrap.dedent(
    """\
    from arcan_core.agent.lifecycle import ReadyAgent


    async def wrong(agent: ReadyAgent) -> None:
        running = agent.start_turn("hi")
        running.start_turn("again")
        completed = await running.wait()
        completed.steer("late")
        completed.next().start_turn("fine")
    """
)


def test_mypy_rejects_wrong_transitions(tmp_path: Path) -> None:
    snippet = tmp_path / "wrong.py"
    snippet.write_text(WRONG)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), str(snippet)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'wrong.py:6: error: "RunningTurn" has no attribute "start_turn"' in result.stdout
    assert 'wrong.py:8: error: "CompletedTurn" has no attribute "steer"' in result.stdout
    # The legal chain on line 9 type-checks.
    assert "wrong.py:9" not in result.stdout


async def test_spent_states_refuse_to_move(tmp_path: Path) -> None:
    core = await open_core(options(tmp_path, [{"text": "one"}, {"text": "two"}]))
    agent = core._ready
    assert agent is not None
    core._ready = None  # take the agent from the daemon: this test drives the states by hand
    running = agent.start_turn("first")
    with pytest.raises(RuntimeError, match="moved on"):
        agent.start_turn("twice")
    completed = await running.wait()
    assert completed.finished.stop_reason == "end_turn"
    with pytest.raises(RuntimeError, match="moved on"):
        running.steer("late")
    ready2 = completed.next()
    with pytest.raises(RuntimeError, match="moved on"):
        completed.next()
    second = await ready2.start_turn("second").wait()
    assert second.finished.turn_id == "t2"
    core.submit(Shutdown())
    await core.wait_closed()
