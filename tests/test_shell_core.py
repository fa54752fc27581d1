"""The shell over the real core (``CoreHost``, ``open_core``) and the scripted demo, in-process."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from arcan_core.protocol.operations import Shutdown
from arcan_tui.shell.host import CoreHost, OpenRequest
from arcan_tui.shell.session import ShellSession
from tests.test_shell_session import DEADLINE_S, Transcript

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("ARCAN_PROVIDER", "ARCAN_MODEL", "ARCAN_MODE", "ARCAN_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def run_demo(project: Path, request: OpenRequest, keys: list[tuple[str, str]]) -> str:
    """Run the shell; for each ``(text, then)`` wait for ``text`` on screen, then type ``then``."""
    out = Transcript()
    host = CoreHost(project, {"provider": "scripted"})
    with create_pipe_input() as pipe:
        shell = ShellSession(
            host,
            project_dir=project,
            request=request,
            pt_input=pipe,
            pt_output=DummyOutput(),
            out=out,
            history=InMemoryHistory(),
            size=lambda: (100, 40),
        )
        task = asyncio.create_task(shell.run())
        for needle, typed in keys:
            await out.wait_for(needle)
            pipe.send_text(typed)
        await asyncio.wait_for(task, DEADLINE_S)
        toolbar = shell.state.toolbar()
    return out.getvalue() + "\n[toolbar]" + toolbar


async def test_the_demo_runs_through_the_real_core_and_continues(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    first = await run_demo(
        project,
        OpenRequest(),
        [
            ("Ctrl+D quits", "show me\r"),
            ("approve write", "y"),
            ("approve edit", "y"),
            ("steps ·", "/quit\r"),
        ],
    )
    assert "✓ write arcan_demo.py" in first
    assert "✓ edit arcan_demo.py" in first
    assert first.count("approve write") == 1  # asked once, though the core publishes it twice
    assert "[toolbar] scripted/" in first
    assert "harness off" in first
    assert (project / "arcan_demo.py").is_file()

    second = await run_demo(
        project, OpenRequest(continue_latest=True), [("> show me", "/sessions\r"), ("*", "/quit\r")]
    )
    assert "✓ edit arcan_demo.py" in second  # the past turn, replayed
    assert "1 turn" in second


async def test_a_new_session_names_its_model_before_the_first_prompt(tmp_path: Path) -> None:
    # The log (which also names the model) is only written at the first prompt; the toolbar
    # must not wait for it.
    # No model configured: the provider's default is chosen, which only the core knows.
    host = CoreHost(tmp_path, {"provider": "scripted"})
    opened = await host.open(OpenRequest())
    try:
        assert (opened.provider, opened.model) == ("scripted", "scripted-demo")
        assert opened.context_window > 0
    finally:
        opened.core.submit(Shutdown())
        await opened.core.wait_closed()
