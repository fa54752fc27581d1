"""The shell tool with real subprocesses: output, exit codes, caps, timeouts, cancel, sandbox."""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import socket
import sys
from pathlib import Path

import pytest

from arcan_core.config.model import SandboxConfig
from arcan_core.protocol.events import EventMsg, ToolCallOutput
from arcan_core.tools.base import ToolContext
from arcan_core.tools.builtin.bash import (
    HEAD_CHARS,
    LIVE_OUTPUT_CHARS,
    TAIL_CHARS,
    BashInput,
    BashTool,
)
from arcan_core.tools.sandbox import BwrapSandbox, default_sandbox, probe_bwrap, sandbox_denial


class Recorder:
    def __init__(self) -> None:
        self.events: list[EventMsg] = []
        self.output_seen = asyncio.Event()

    def __call__(self, msg: EventMsg, /) -> None:
        self.events.append(msg)
        if isinstance(msg, ToolCallOutput):
            self.output_seen.set()


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    return ToolContext(workspace=workspace.resolve(), call_id="c1", emit=Recorder(), env=env)


def _dies(pid: int, within: float = 5.0) -> bool:
    """Wait (on a pidfd, not a sleep) until ``pid`` has exited; False if it outlives ``within``."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], within)
    finally:
        os.close(fd)
    return bool(ready) or not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


async def test_runs_in_the_workspace_and_reports_the_exit_code(ctx: ToolContext) -> None:
    result = await BashTool().run(BashInput(command="pwd; echo oops >&2; exit 3"), ctx)
    assert str(ctx.workspace) in result.content
    assert "oops" in result.content
    assert result.content.endswith("[exit code 3]")
    assert result.is_error
    assert result.display is not None
    assert result.display.exit_code == 3
    assert result.display.stderr == "oops\n"


async def test_streams_output_live(ctx: ToolContext) -> None:
    await BashTool().run(BashInput(command="echo one; echo two >&2"), ctx)
    assert isinstance(ctx.emit, Recorder)
    chunks = [e for e in ctx.emit.events if isinstance(e, ToolCallOutput)]
    assert {(c.stream, c.chunk) for c in chunks} == {("stdout", "one\n"), ("stderr", "two\n")}
    assert all(c.call_id == "c1" for c in chunks)


async def test_stdin_is_closed(ctx: ToolContext) -> None:
    result = await BashTool().run(BashInput(command="cat; echo done", timeout=5), ctx)
    assert "done" in result.content
    assert "[exit code 0]" in result.content


async def test_secret_variables_are_not_in_the_environment(ctx: ToolContext) -> None:
    # The executor builds ctx.env without secret-looking names; the tool must use exactly it.
    result = await BashTool().run(BashInput(command="env"), ctx)
    names = {line.split("=", 1)[0] for line in result.content.splitlines() if "=" in line}
    assert "PATH" in names
    assert not any("KEY" in n or "TOKEN" in n for n in names)


async def test_long_output_keeps_head_and_tail(ctx: ToolContext) -> None:
    command = f"{sys.executable} -c \"print('A' * 30000); print('B' * 30000)\""
    result = await BashTool().run(BashInput(command=command), ctx)
    assert result.content.startswith("A" * 100)
    assert "characters elided" in result.content
    assert "B" * 100 + "\n[exit code 0]" in result.content
    assert len(result.content) < HEAD_CHARS + TAIL_CHARS + 500


async def test_timeout_kills_the_whole_process_group(ctx: ToolContext, tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    command = f"sleep 300 & echo $! > {pid_file}; sleep 300"
    result = await BashTool().run(BashInput(command=command, timeout=1), ctx)
    assert "timed out after 1 s" in result.content
    assert result.is_error
    grandchild = int(pid_file.read_text())
    assert _dies(grandchild)


async def test_a_finished_command_leaves_no_process_behind(
    ctx: ToolContext, tmp_path: Path
) -> None:
    pid_file = tmp_path / "bg.pid"
    result = await BashTool().run(BashInput(command=f"sleep 300 & echo $! > {pid_file}"), ctx)
    assert "[exit code 0]" in result.content
    assert _dies(int(pid_file.read_text()))


ESCAPEE = """\
import os, sys, time
os.setsid()  # out of the call's process group, as a daemonising server does
fd = os.open(sys.argv[1] + ".tmp", os.O_WRONLY | os.O_CREAT)
os.write(fd, str(os.getpid()).encode())
os.close(fd)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
"""


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs procfs")
async def test_a_process_that_left_the_group_is_killed_too(
    ctx: ToolContext, tmp_path: Path
) -> None:
    script = tmp_path / "escapee.py"
    script.write_text(ESCAPEE)
    pid_file = tmp_path / "escapee.pid"
    # The command returns only once the escapee has left the group (its pid file exists).
    command = (
        f"{sys.executable} {script} {pid_file} >/dev/null 2>&1 &\n"
        f"while [ ! -e {pid_file} ]; do sleep 0.01; done"
    )
    result = await BashTool().run(BashInput(command=command, timeout=60), ctx)
    assert "[exit code 0]" in result.content
    escapee = int(pid_file.read_text())
    assert _dies(escapee)


async def test_cancel_kills_the_process_group_promptly(ctx: ToolContext) -> None:
    assert isinstance(ctx.emit, Recorder)
    command = "sleep 300 & echo $!; wait"
    task = asyncio.create_task(BashTool().run(BashInput(command=command), ctx))
    # The child's pid arrives as live output: the command is running once it is seen.
    await asyncio.wait_for(ctx.emit.output_seen.wait(), 30)
    pid = int(next(e for e in ctx.emit.events if isinstance(e, ToolCallOutput)).chunk.split()[0])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    assert _dies(pid)


def test_sandbox_denial_is_recognised() -> None:
    assert sandbox_denial("touch: cannot touch '/x': Read-only file system", 1) is not None
    assert sandbox_denial("curl: (6) Could not resolve host: example.com", 6) is not None
    assert sandbox_denial("Read-only file system", 0) is None
    assert sandbox_denial("ordinary failure", 1) is None


ETC_PROBE = Path("/etc/arcan-probe")
PROC = Path("/proc")
BWRAP = shutil.which("bwrap")
BWRAP_PROBLEM = "bwrap is not installed" if BWRAP is None else probe_bwrap(BWRAP)
needs_bwrap = pytest.mark.skipif(BWRAP_PROBLEM is not None, reason=f"{BWRAP_PROBLEM}")


@pytest.fixture
def sandboxed(ctx: ToolContext) -> ToolContext:
    assert BWRAP is not None
    ctx.sandbox = BwrapSandbox(BWRAP)
    return ctx


@needs_bwrap
async def test_sandbox_lets_the_workspace_be_written(sandboxed: ToolContext) -> None:
    result = await BashTool().run(
        BashInput(command="echo hi > inside.txt && cat inside.txt"), sandboxed
    )
    assert "[exit code 0]" in result.content
    assert (sandboxed.workspace / "inside.txt").read_text() == "hi\n"


@needs_bwrap
async def test_sandbox_cannot_write_outside_the_workspace(
    sandboxed: ToolContext, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    home_file = Path.home() / "arcan-sandbox-probe.txt"
    command = f"echo x > {outside}; echo y > {home_file}; echo z > {ETC_PROBE}"
    result = await BashTool().run(BashInput(command=command), sandboxed)
    assert not outside.exists()
    assert not home_file.exists()
    assert not _exists(ETC_PROBE)
    assert result.is_error
    assert "sandbox denial" in result.content
    assert "write outside the workspace" in result.content


@needs_bwrap
async def test_sandbox_keeps_git_hooks_and_arcan_read_only(sandboxed: ToolContext) -> None:
    hooks = sandboxed.workspace / ".git" / "hooks"
    hooks.mkdir(parents=True)
    (sandboxed.workspace / ".arcan").mkdir()
    command = "echo evil > .git/hooks/pre-commit; echo evil > .arcan/permissions.toml"
    result = await BashTool().run(BashInput(command=command), sandboxed)
    assert not (hooks / "pre-commit").exists()
    assert not (sandboxed.workspace / ".arcan" / "permissions.toml").exists()
    assert "sandbox denial" in result.content


@needs_bwrap
async def test_sandbox_has_no_network(sandboxed: ToolContext) -> None:
    # A loopback server outside the sandbox: reachable from here, not from inside.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        probe = (
            f'{sys.executable} -c "import socket; s = socket.socket(); '
            f"s.settimeout(3); s.connect(('127.0.0.1', {port})); print('connected')\""
        )
        result = await BashTool().run(BashInput(command=probe), sandboxed)
        assert "connected" not in result.content
        assert result.is_error
        unsandboxed = sandboxed
        unsandboxed.sandbox = None
        reachable = await BashTool().run(BashInput(command=probe), unsandboxed)
        assert "connected" in reachable.content
    finally:
        server.close()


@needs_bwrap
async def test_sandbox_timeout_still_kills_everything(
    sandboxed: ToolContext, tmp_path: Path
) -> None:
    marker = sandboxed.workspace / "started"
    command = f"touch {marker}; sleep 317 & sleep 317"
    result = await BashTool().run(BashInput(command=command, timeout=1), sandboxed)
    assert "timed out" in result.content
    assert marker.exists()
    assert not _live_sleepers()


def _exists(path: Path) -> bool:
    return path.exists()


def _live_sleepers() -> list[int]:
    pids = [int(p.name) for p in PROC.iterdir() if p.name.isdigit() and _cmdline(p) == "sleep 317"]
    return [pid for pid in pids if not _dies(pid)]


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\x00", b" ").decode().strip()
    except OSError:
        return ""


def test_default_sandbox_respects_the_config() -> None:
    off = default_sandbox(SandboxConfig(enabled=False))
    assert not off.available
    assert "turned off" in (off.unavailable_reason or "")
    if BWRAP_PROBLEM is None:
        on = default_sandbox(SandboxConfig(network=True))
        assert on.available
        assert on.network


async def test_live_output_stops_after_its_budget(ctx: ToolContext) -> None:
    script = "import sys; [sys.stdout.write('z' * 999 + chr(10)) for _ in range(600)]"
    command = f'{sys.executable} -c "{script}"'
    result = await BashTool().run(BashInput(command=command), ctx)
    assert isinstance(ctx.emit, Recorder)
    streamed = "".join(e.chunk for e in ctx.emit.events if isinstance(e, ToolCallOutput))
    assert len(streamed) < LIVE_OUTPUT_CHARS + 200
    assert streamed.endswith(
        "[live output stops here; the command goes on, its end is in the result]\n"
    )
    assert "[exit code 0]" in result.content
