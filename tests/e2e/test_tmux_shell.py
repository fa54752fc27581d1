"""``arcan shell`` end to end in a real terminal: tmux, the scripted provider, a scratch project.

A prompt, a streamed answer, two approved edits with their diffs, ``/quit``; then ``--continue``
shows the same session's transcript and quits cleanly. The test polls ``capture-pane`` until a
text appears or a deadline passes; it never sleeps a fixed time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

DEADLINE_S = 30.0
POLL_S = 0.05


class Tmux:
    """One private tmux server (its own socket) holding one pane."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-s", "t", "-x", "110", "-y", "45", command)
        self.run("set-option", "-t", "t", "remain-on-exit", "on")

    def restart(self, command: str) -> None:
        """Start ``command`` in a fresh session, so the screen holds nothing of the last one."""
        self.run("kill-session", "-t", "t")
        self.start(command)

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-S", "-500", "-t", "t")

    def wait(self, predicate: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(POLL_S)

    def wait_for(self, needle: str, *, count: int = 1) -> str:
        return self.wait(lambda text: text.count(needle) >= count, repr(needle))


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    server = Tmux(f"arcan-shell-test-{os.getpid()}-{tmp_path.name}")
    yield server
    subprocess.run(["tmux", "-L", server.socket, "kill-server"], check=False, capture_output=True)


def shell_command(project: Path, state: Path, *flags: str) -> str:
    env = {
        "XDG_STATE_HOME": str(state / "state"),
        "XDG_CONFIG_HOME": str(state / "config"),
        "HOME": str(state),
        "TERM": "xterm-256color",
        "ANTHROPIC_API_KEY": "",
        "OPENAI_API_KEY": "",
    }
    assignments = " ".join(f"{key}='{value}'" for key, value in env.items())
    argv = " ".join(flags)
    entry = "from arcan_tui.cli import entry; entry()"
    return (
        f"cd '{project}' && env {assignments} '{sys.executable}' -c '{entry}' "
        f"shell --provider scripted {argv}; echo ARCAN-EXIT=$?"
    )


def test_prompt_answer_approved_edits_quit_then_continue(tmux: Tmux, tmp_path: Path) -> None:
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
