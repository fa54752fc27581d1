"""The ``bash`` tool: one shell command in the workspace, bounded in time and output.

The command runs in its own process group (a new session) with stdin closed and the secret-looking
variables removed from its environment. Output streams live to front-ends (``ToolCallOutput``)
and is kept head-and-tail for the model. On a timeout or a cancel the whole group is killed,
grandchildren included; when the command exits, what it left running in its group is killed too,
and so is any process that left the group (``setsid``, a daemonising server): each call's
environment carries a tag, ``ARCAN_TOOL_CALL``, that its descendants inherit, and the processes of
this user that carry it are found in ``/proc`` and killed, so a call never leaves a process behind
(on Linux; a process that clears its whole environment is not found). Under ``auto-edit`` and
``full-auto`` the executor hands the tool a sandbox (see ``sandbox``); a failure that looks like
the sandbox's doing is reported as a sandbox denial, so the model does not take it for a broken
tool or network.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import secrets
import shutil
import signal
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.protocol.events import ToolCallOutput, ToolDisplay
from arcan_core.tools.base import PreviewKind, Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.output import HeadTailBuffer
from arcan_core.tools.sandbox import sandbox_denial

__all__ = ["BashInput", "BashTool"]

DEFAULT_TIMEOUT_S = 120
MAX_TIMEOUT_S = 600
HEAD_CHARS = 12_000
TAIL_CHARS = 12_000
_KILL_GRACE_S = 2.0
_DRAIN_S = 1.0
_POLL_S = 0.02
LIVE_OUTPUT_CHARS = 256_000
"""Live output streamed per call; a command printing gigabytes must not flood the UI or log."""
_CHUNK = 8192


class BashInput(BaseModel):
    """Input of ``bash``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    command: str = Field(min_length=1, description="The command line, run by bash -c.")
    timeout: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TIMEOUT_S,
        description=f"Seconds before the command is killed. Default {DEFAULT_TIMEOUT_S}.",
    )
    description: str | None = Field(
        default=None, description="A few words saying what the command does, for the user."
    )


class _LiveBudget:
    """How much live output one call may still stream to front-ends (and the log)."""

    def __init__(self, chars: int) -> None:
        self.left = chars

    def take(self, text: str) -> str:
        """Return the part of ``text`` to stream; once spent, one notice and then nothing."""
        if self.left <= 0:
            return ""
        if len(text) < self.left:
            self.left -= len(text)
            return text
        kept = text[: self.left]
        self.left = 0
        return kept + "\n[live output stops here; the command goes on, its end is in the result]\n"


def _shell() -> str:
    return shutil.which("bash") or "/bin/sh"


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Wait until the shell itself exits.

    ``Process.wait`` also waits for the pipes to close, which a background grandchild can hold
    open for ever; a pidfd becomes readable the moment the process ends, children or not.
    """
    if proc.returncode is not None:
        return
    try:
        fd = os.pidfd_open(proc.pid)
    except (OSError, AttributeError):
        # No pidfd (old kernel, or the process is already gone): poll the return code.
        while proc.returncode is None and _running(proc.pid):  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(_POLL_S)
        return
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_reader(fd, done.set)
    try:
        await done.wait()
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


CALL_TAG = "ARCAN_TOOL_CALL"
"""The environment variable that marks every process a ``bash`` call started."""
_TAG_ROUNDS = 3
"""Scans per cleanup: a tagged process may fork between a scan and its kill."""


def _tagged(tag: str) -> list[int]:
    """Return the pids of this user's processes whose environment carries ``tag``."""
    needle = f"\0{CALL_TAG}={tag}\0".encode()
    uid, me = os.getuid(), os.getpid()
    found: list[int] = []
    try:
        entries = os.scandir("/proc")
    except OSError:
        return found  # no procfs (not Linux): the process group kill is all there is
    with entries:
        for entry in entries:
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                if entry.stat().st_uid != uid:
                    continue
                with open(f"/proc/{entry.name}/environ", "rb") as environ:  # noqa: PTH123
                    if needle in b"\0" + environ.read():
                        found.append(int(entry.name))
            except OSError:
                continue  # gone meanwhile, or not ours to read
    return found


def _kill_tagged(tag: str) -> None:
    """SIGKILL what a call left running outside its process group (``setsid``, daemons)."""
    for _ in range(_TAG_ROUNDS):
        pids = _tagged(tag)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


class BashTool(Tool[BashInput]):
    """Run a shell command in the workspace."""

    name: ClassVar[str] = "bash"
    description: ClassVar[str] = (
        "Run a shell command (bash -c) in the workspace directory. stdin is closed: commands "
        "cannot prompt. Default timeout 120 s (max 600); the process and everything it started "
        "are killed at the timeout and when the command ends, so do not start servers in the "
        "background. Long output keeps its head and tail. The exit code is reported. In "
        "auto-edit and full-auto modes the command runs in a sandbox: only the workspace and "
        "/tmp are writable and there is no network unless the user allows it."
    )
    input_model: ClassVar[type[BaseModel]] = BashInput
    category: ClassVar[ToolCategory] = "execute"
    rule_name: ClassVar[str | None] = "bash"

    def touched_paths(self, args: BashInput, ctx: ToolContext) -> tuple[Path, ...]:
        """Unknown: a shell command can touch anything (the executor orders it as a barrier)."""
        del args, ctx
        return ()

    def preview(self, args: BashInput, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """The command line."""
        del ctx
        return args.command, "command"

    def summary(self, args: BashInput, ctx: ToolContext) -> str:
        """The description, or the first line of the command."""
        del ctx
        return args.description or args.command.strip().splitlines()[0][:200]

    async def run(self, args: BashInput, ctx: ToolContext) -> ToolResult:
        """Run the command and report its output and exit code."""
        argv = [_shell(), "-c", args.command]
        if ctx.sandbox is not None:
            argv = ctx.sandbox.wrap(argv, workspace=ctx.workspace, writable=ctx.extra_roots)
        timeout = args.timeout or DEFAULT_TIMEOUT_S
        tag = secrets.token_hex(8)
        env = {**ctx.env, CALL_TAG: tag}
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=ctx.workspace,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        combined = HeadTailBuffer(HEAD_CHARS, TAIL_CHARS)
        streams = {"stdout": HeadTailBuffer(4000, 4000), "stderr": HeadTailBuffer(4000, 4000)}
        live = _LiveBudget(LIVE_OUTPUT_CHARS)
        readers = [
            asyncio.create_task(self._pump(proc.stdout, "stdout", ctx, combined, streams, live)),
            asyncio.create_task(self._pump(proc.stderr, "stderr", ctx, combined, streams, live)),
        ]
        timed_out = False
        try:
            try:
                await asyncio.wait_for(_exited(proc), timeout)
            except TimeoutError:
                timed_out = True
                await self._stop(proc)
            # Whatever the command left running in its group would hold the pipes open.
            _kill_group(proc.pid, signal.SIGKILL)
            _kill_tagged(tag)
            await asyncio.wait(readers, timeout=_DRAIN_S)
            await proc.wait()
        except asyncio.CancelledError:
            _kill_group(proc.pid, signal.SIGKILL)
            _kill_tagged(tag)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        finally:
            for reader in readers:
                reader.cancel()
        code = proc.returncode if proc.returncode is not None else -1
        return self._result(args, ctx, combined, streams, code, timed_out, timeout)

    async def _stop(self, proc: asyncio.subprocess.Process) -> None:
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(_exited(proc), _KILL_GRACE_S)
        except TimeoutError:
            _kill_group(proc.pid, signal.SIGKILL)

    @staticmethod
    async def _pump(
        stream: asyncio.StreamReader | None,
        name: Literal["stdout", "stderr"],
        ctx: ToolContext,
        combined: HeadTailBuffer,
        streams: dict[str, HeadTailBuffer],
        live: _LiveBudget,
    ) -> None:
        if stream is None:
            return
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := await stream.read(_CHUNK):
            text = decoder.decode(chunk)
            if text:
                combined.write(text)
                streams[name].write(text)
                shown = live.take(text)
                if shown:
                    ctx.emit(ToolCallOutput(call_id=ctx.call_id, stream=name, chunk=shown))
        tail = decoder.decode(b"", final=True)
        if tail:
            combined.write(tail)
            streams[name].write(tail)

    @staticmethod
    def _result(
        args: BashInput,
        ctx: ToolContext,
        combined: HeadTailBuffer,
        streams: dict[str, HeadTailBuffer],
        code: int,
        timed_out: bool,
        timeout: int,
    ) -> ToolResult:
        output = combined.text().rstrip("\n")
        notes: list[str] = []
        if timed_out:
            notes.append(
                f"[timed out after {timeout} s; the command and its child processes were killed]"
            )
        elif code < 0:
            notes.append(f"[killed by signal {-code}]")
        else:
            notes.append(f"[exit code {code}]")
        denied = sandbox_denial(output, code) if ctx.sandbox is not None else None
        if denied is not None:
            notes.append(
                f"[sandbox denial: the sandbox blocked {denied}. Commands here may write only "
                "inside the workspace and /tmp"
                + ("" if ctx.sandbox and ctx.sandbox.network else ", and have no network")
                + ". This is not a bug in the command; ask the user if it must do this.]"
            )
        content = (output + "\n" if output else "(no output)\n") + "\n".join(notes)
        display = ToolDisplay(
            kind="shell",
            exit_code=code,
            stdout=streams["stdout"].text(),
            stderr=streams["stderr"].text(),
        )
        del args
        return ToolResult(content=content, is_error=timed_out or code != 0, display=display)
