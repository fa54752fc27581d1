"""The TUI end to end in a real terminal: tmux runs ``arcan`` against the loopback model server.

In a scratch project: type a prompt, approve the edit the model asks for, see the diff and the
answer, quit; then ``arcan --continue`` shows the same session. Every wait polls ``capture-pane``
until a text appears or a deadline passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.loopback.replies import Reply, ToolCall
from tests.loopback.server import ThreadedLoopback

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

DEADLINE_S = 30.0
POLL_S = 0.05


class Pane:
    """One private tmux server (its own socket, no user config) holding one pane."""

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
        self.run("kill-session", "-t", "t")
        self.start(command)

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-S", "-200", "-t", "t")

    def wait(self, predicate: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(POLL_S)

    def wait_for(self, needle: str) -> str:
        return self.wait(lambda text: needle in text, repr(needle))


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    server = Pane(f"arcan-tui-test-{os.getpid()}-{tmp_path.name}")
    yield server
    subprocess.run(["tmux", "-L", server.socket, "kill-server"], check=False, capture_output=True)


def arcan_command(project: Path, home: Path, base_url: str, *flags: str) -> str:
    env = {
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "TEXTUAL_ANIMATIONS": "none",
        "ANTHROPIC_API_KEY": "loopback-key",
        "OPENAI_API_KEY": "",
    }
    assignments = " ".join(f"{key}='{value}'" for key, value in env.items())
    entry = "from arcan_tui.cli import entry; entry()"
    argv = " ".join(
        ["--provider", "anthropic", "--model", "loopback-model", "--base-url", base_url, *flags]
    )
    return (
        f"cd '{project}' && env {assignments} '{sys.executable}' -c '{entry}' {argv}; "
        "echo ARCAN-EXIT=$?"
    )


def approve(pane: Pane, question: str) -> None:
    """Press ``y`` until the question goes: keys inside the guard window are ignored by design."""
    deadline = time.monotonic() + DEADLINE_S
    while question in pane.screen():
        if time.monotonic() > deadline:
            pytest.fail(f"the approval {question!r} was never answered:\n{pane.screen()}")
        pane.send("y")
        time.sleep(POLL_S * 2)


def test_prompt_approve_edit_quit_then_continue(pane: Pane, tmp_path: Path) -> None:
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
        pane.start(arcan_command(project, home, server.anthropic_base_url))
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

        pane.restart(arcan_command(project, home, server.anthropic_base_url, "--continue"))
        screen = pane.wait_for("Done: x is now 2.")
        assert "set x to 2" in screen
        assert "+x = 2" in screen
        pane.send("C-q")
        pane.wait_for("ARCAN-EXIT=0")
    assert list((project / ".arcan" / "sessions").glob("*.jsonl")) == sessions
