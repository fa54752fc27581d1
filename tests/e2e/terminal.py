"""A real terminal for end-to-end tests: one private tmux server holding one pane.

Waits poll ``capture-pane`` until a text appears or a deadline passes; nothing sleeps a fixed time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

DEADLINE_S = 30.0
POLL_S = 0.05


class TmuxPane:
    """One tmux server on its own socket, without the user's config, holding one 110x45 pane.

    ``join_wrapped`` joins lines the terminal wrapped (line-mode output); a full-screen app wants
    the rows as drawn. ``history`` is how many scrolled-off lines a capture includes.
    """

    def __init__(self, socket: str, *, join_wrapped: bool = False, history: int = 200) -> None:
        self.socket = socket
        self.join_wrapped = join_wrapped
        self.history = history

    def run(self, *args: str) -> str:
        """Run one tmux command against this server and return its output."""
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def start(self, command: str) -> None:
        """Start ``command`` in the pane, which stays after it exits so its output can be read."""
        self.run("new-session", "-d", "-s", "t", "-x", "110", "-y", "45", command)
        self.run("set-option", "-t", "t", "remain-on-exit", "on")

    def restart(self, command: str) -> None:
        """Start ``command`` in a fresh session, so the screen holds nothing of the last one."""
        self.run("kill-session", "-t", "t")
        self.start(command)

    def send(self, *keys: str) -> None:
        """Send keys by tmux name (``Enter``, ``Escape``) or as text."""
        self.run("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally."""
        self.run("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        """The pane's text, with ``history`` lines of scrollback."""
        join = ("-J",) if self.join_wrapped else ()
        return self.run("capture-pane", "-p", *join, "-S", f"-{self.history}", "-t", "t")

    def wait(self, predicate: Callable[[str], bool], what: str) -> str:
        """Poll the screen until ``predicate`` holds; fail with the screen after the deadline."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(POLL_S)

    def wait_for(self, needle: str, *, count: int = 1) -> str:
        """Wait until ``needle`` shows ``count`` times."""
        return self.wait(lambda text: text.count(needle) >= count, repr(needle))

    def kill(self) -> None:
        """Stop the server and everything in it."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False, capture_output=True)


def arcan_command(project: Path, env: Mapping[str, str], argv: Sequence[str]) -> str:
    """A shell line that runs ``arcan ARGV`` in ``project`` with ``env``, then its exit code."""
    assignments = " ".join(f"{key}='{value}'" for key, value in env.items())
    entry = "from arcan_tui.cli import entry; entry()"
    return (
        f"cd '{project}' && env {assignments} '{sys.executable}' -c '{entry}' "
        f"{' '.join(argv)}; echo ARCAN-EXIT=$?"
    )


def isolated_env(home: Path) -> dict[str, str]:
    """Environment that keeps arcan's user state, config and keys inside ``home``."""
    return {
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "ANTHROPIC_API_KEY": "",
        "OPENAI_API_KEY": "",
    }
