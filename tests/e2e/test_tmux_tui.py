"""The TUI end to end in a real terminal: tmux runs ``arcan`` against the loopback model server.

In a scratch project: type a prompt, approve the edit the model asks for, see the diff and the
answer, quit; then ``arcan --continue`` shows the same session. Every wait polls ``capture-pane``
until a text appears or a deadline passes.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING

import pytest

from tests.e2e.terminal import DEADLINE_S, POLL_S, TmuxPane, arcan_command, isolated_env
from tests.loopback.replies import Reply, ToolCall
from tests.loopback.server import ThreadedLoopback

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[TmuxPane]:
    server = TmuxPane(f"arcan-tui-test-{os.getpid()}-{tmp_path.name}")
    yield server
    server.kill()


def arcan_tui_command(project: Path, home: Path, base_url: str, *flags: str) -> str:
    env = isolated_env(home) | {
        "COLORTERM": "truecolor",
        "TEXTUAL_ANIMATIONS": "none",
        "ANTHROPIC_API_KEY": "loopback-key",
    }
    argv = ["--provider", "anthropic", "--model", "loopback-model", "--base-url", base_url, *flags]
    return arcan_command(project, env, argv)


def approve(pane: TmuxPane, question: str) -> None:
    """Press ``y`` until the question goes: keys inside the guard window are ignored by design."""
    deadline = time.monotonic() + DEADLINE_S
    while question in pane.screen():
        if time.monotonic() > deadline:
            pytest.fail(f"the approval {question!r} was never answered:\n{pane.screen()}")
        pane.send("y")
        time.sleep(POLL_S * 2)


def test_prompt_approve_edit_quit_then_continue(pane: TmuxPane, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("x = 1\n", encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    with ThreadedLoopback() as server:
        server.enqueue(
            Reply(
                text="I'll change x in app.py.",
                tool_calls=(
                    ToolCall("edit", {"path": "app.py", "old": "x = 1", "new": "x = 2"}, "call-1"),
                ),
            ),
            Reply(text="Done: **x is now 2**."),
        )
        pane.start(arcan_tui_command(project, home, server.anthropic_base_url))
        pane.wait_for("anthropic/loopback-model")
        pane.type("set x to 2")
        pane.send("Enter")
        pane.wait_for("Allow edit")
        pane.wait_for("I'll change x in app.py.")
        approve(pane, "Allow edit")
        pane.wait_for("Done: x is now 2.")
        screen = pane.wait_for("+x = 2")
        assert "-x = 1" in screen, screen
        assert "✓ edit  app.py" in screen, screen
        assert (project / "app.py").read_text(encoding="utf-8") == "x = 2\n"

        pane.send("C-q")
        pane.wait_for("ARCAN-EXIT=0")
        sessions = list((project / ".arcan" / "sessions").glob("*.jsonl"))
        assert len(sessions) == 1

        pane.restart(arcan_tui_command(project, home, server.anthropic_base_url, "--continue"))
        screen = pane.wait_for("Done: x is now 2.")
        assert "set x to 2" in screen
        assert "+x = 2" in screen
        pane.send("C-q")
        pane.wait_for("ARCAN-EXIT=0")
    assert list((project / ".arcan" / "sessions").glob("*.jsonl")) == sessions
