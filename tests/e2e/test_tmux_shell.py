"""``arcan shell`` end to end in a real terminal: tmux, the scripted provider, a scratch project.

A prompt, a streamed answer, two approved edits with their diffs, ``/quit``; then ``--continue``
shows the same session's transcript and quits cleanly. The test polls ``capture-pane`` until a
text appears or a deadline passes; it never sleeps a fixed time.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import pytest

from tests.e2e.terminal import TmuxPane, arcan_command, isolated_env

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[TmuxPane]:
    server = TmuxPane(
        f"arcan-shell-test-{os.getpid()}-{tmp_path.name}", join_wrapped=True, history=500
    )
    yield server
    server.kill()


def shell_command(project: Path, state: Path, *flags: str) -> str:
    return arcan_command(project, isolated_env(state), ["shell", "--provider", "scripted", *flags])


def test_prompt_answer_approved_edits_quit_then_continue(tmux: TmuxPane, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    tmux.start(shell_command(project, tmp_path))
    tmux.wait_for("scripted/")  # the toolbar: the core is open

    tmux.send("show me the demo")
    tmux.send("Enter")
    tmux.wait_for("approve write: write arcan_demo.py")
    screen = tmux.wait_for("n deny ?")
    assert "thinking: " in screen  # the reply streamed before the question
    assert '+    return "Hello, " + name' in screen
    tmux.send("y")
    tmux.wait_for("approve edit: edit arcan_demo.py")
    tmux.wait_for("n deny ?", count=2)
    tmux.send("y")
    screen = tmux.wait_for("steps ·")  # the turn's closing line
    assert "✓ write arcan_demo.py" in screen
    assert "✓ edit arcan_demo.py" in screen
    assert '+    return f"Hello, {name}!"' in screen
    assert "allowed once" in screen
    assert 'f"Hello, {name}!"' in (project / "arcan_demo.py").read_text(encoding="utf-8")

    tmux.send("/quit")
    tmux.send("Enter")
    tmux.wait_for("ARCAN-EXIT=0")
    sessions = list((project / ".arcan" / "sessions").glob("*.jsonl"))
    assert len(sessions) == 1

    tmux.restart(shell_command(project, tmp_path, "--continue"))
    screen = tmux.wait_for("✓ edit arcan_demo.py")  # the past turn, replayed
    assert "> show me the demo" in screen
    tmux.wait_for("scripted/")
    tmux.send("/quit")
    tmux.send("Enter")
    tmux.wait_for("ARCAN-EXIT=0")
    assert list((project / ".arcan" / "sessions").glob("*.jsonl")) == sessions
