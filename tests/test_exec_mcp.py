"""``arcan exec`` with the project's MCP servers: started with the core, called, stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arcan_core.agent.session import open_core
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import Event, ToolCallFinished, TurnFinished
from arcan_core.protocol.operations import Shutdown, SubmitPrompt
from tests.agent_support import collect_turn, of_type, options
from tests.test_exec_command import ARCAN, _env, _script, exec_arcan

pytest.importorskip("mcp")

ECHO = Path(__file__).parent / "fixtures" / "mcp_echo_server.py"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def _mcp_json(project: Path) -> None:
    servers = {"echo": {"command": sys.executable, "args": [str(ECHO)]}}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))


def test_exec_calls_a_tool_of_the_projects_mcp_server(project: Path) -> None:
    _mcp_json(project)
    script = _script(
        project.parent,
        [
            {"tool_calls": [{"name": "mcp__echo__echo", "args": {"text": "ab", "times": 3}}]},
            {"text": "The server said ababab."},
        ],
    )
    # MCP tools act outside the workspace: they run unasked only in full-auto.
    result = exec_arcan(project, script, "--json", "--mode", "full-auto", stdin="echo ab\n")
    assert result.returncode == 0, result.stderr
    events = [Event.model_validate_json(line) for line in result.stdout.splitlines()]
    [finished] = [e.msg for e in events if isinstance(e.msg, ToolCallFinished)]
    assert finished.name == "mcp__echo__echo"
    assert not finished.is_error, finished.result
    assert "ababab" in finished.result
    assert isinstance(events[-1].msg, TurnFinished)
    assert events[-1].msg.stop_reason == "end_turn"


def test_exec_reports_a_server_that_cannot_start_and_goes_on(project: Path) -> None:
    servers = {"broken": {"command": str(project / "no-such-server")}}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    script = _script(project.parent, [{"text": "Fine without it."}])
    result = exec_arcan(project, script, "say something")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Fine without it."
    assert "broken" in result.stderr


def test_a_project_without_servers_never_imports_mcp(project: Path) -> None:
    script = _script(project.parent, [{"text": "ok"}])
    code = (
        "import sys\n"
        "from arcan_tui.cli import main\n"
        f"code = main(['exec', '-C', {str(project)!r}, '--provider', 'scripted',"
        f" '--script', {str(script)!r}, 'hi'])\n"
        "names = ('mcp', 'mcp.', 'arcan_core.mcp')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(names))\n"
        "print('LOADED', loaded, code, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(project.parent),
        timeout=60,
        check=False,
    )
    assert "LOADED [] 0" in result.stderr, result.stderr
    assert ARCAN  # the same interpreter and entry point as the other exec tests


def _echo_servers_of_this_process() -> list[int]:
    """The pids of live echo servers whose parent is this test process (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if str(ECHO).encode() in cmdline and ppid == os.getpid() and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_the_core_owns_its_mcp_servers_and_stops_them(project: Path) -> None:
    _mcp_json(project)
    steps = [
        {"tool_calls": [{"name": "mcp__echo__echo", "args": {"text": "hi"}}]},
        {"text": "done"},
    ]
    opts = options(project, steps).replace(
        tools=None, config=ArcanConfig(provider="scripted", mode="full-auto")
    )
    core = await open_core(opts)
    events = core.subscribe()
    core.submit(SubmitPrompt(text="echo hi"))
    [finished] = of_type(await collect_turn(core, events), ToolCallFinished)
    assert finished.result.strip() == "hi", finished.result
    assert _echo_servers_of_this_process()
    core.submit(Shutdown())
    await core.wait_closed()
    assert _echo_servers_of_this_process() == []
