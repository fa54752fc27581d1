"""Check sensors: run a check's command and turn its output into a ``SensorReading``.

A command runs without a shell (``shlex`` splits it; write ``sh -c '…'`` for pipes), in its own
process group so a timeout or a cancellation kills everything it started (pytest-xdist workers, a
dev server a test spawned). Output is merged and capped: the head and the tail are kept, because
tools print their first failures early and their summary last.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict

from arcan_core.config.model import CheckConfig
from arcan_core.errors import ConfigError, HarnessError
from arcan_core.harness.parsers import DEFAULT_PARSERS, ParsedOutput, ParserRegistry
from arcan_core.harness.targets import Target, parse_target
from arcan_core.protocol.events import SensorReading

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "DEFAULT_OUTPUT_CAP",
    "CheckOutcome",
    "CheckSpec",
    "CommandResult",
    "check_env",
    "run_check",
    "run_command",
    "sensor_name",
]

DEFAULT_OUTPUT_CAP: Final = 256 * 1024
"""Bytes of output kept per run (half from the start, half from the end)."""
_KILL_GRACE_S: Final = 1.0
_REAP_S: Final = 10.0
"""After SIGKILL, how long to wait for the exit to be reported (slow on a loaded machine)."""
_CHUNK: Final = 65536


def sensor_name(check: str) -> str:
    """Return the ``SensorReading.sensor`` of the check called ``check``."""
    return f"check:{check}"


class CommandResult(BaseModel):
    """How a command ended and what it printed (stdout and stderr merged)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exit_code: int | None
    output: str
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0


def check_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment checks run in: the user's, asking tools for plain output."""
    env = dict(os.environ)
    env.update({"NO_COLOR": "1", "TERM": "dumb", "PY_COLORS": "0", "CARGO_TERM_COLOR": "never"})
    env.pop("FORCE_COLOR", None)
    if extra:
        env.update(extra)
    return env


def _kill_group(pid: int, sig: signal.Signals) -> None:
    # The group may be gone already (the command exited and took its children with it).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class _CappedBuffer:
    """Keeps the first and the last ``cap / 2`` bytes of a stream."""

    def __init__(self, cap: int) -> None:
        self._half = max(cap // 2, 1)
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size > self._half:
            self.truncated = True
            excess = self._tail_size - self._half
            first = self._tail[0]
            if len(first) <= excess:
                self._tail.popleft()
                self._tail_size -= len(first)
            else:
                self._tail[0] = first[excess:]
                self._tail_size -= excess

    def text(self) -> str:
        head = self._head.decode("utf-8", errors="replace")
        tail = b"".join(self._tail).decode("utf-8", errors="replace")
        if self.truncated:
            return f"{head}\n[… output cut …]\n{tail}"
        return head + tail


async def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout_s: float,
    max_output_bytes: int = DEFAULT_OUTPUT_CAP,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> CommandResult:
    """Run ``argv`` in its own process group, with a timeout and capped, merged output.

    Cancelling the awaiting task kills the whole process group before the cancellation propagates.

    Raises:
        HarnessError: the program does not exist or cannot be started.
    """
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else check_env(),
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as error:
        raise HarnessError(
            f"cannot run {argv[0]!r}: {error.strerror or error}",
            hint="check the command in [harness] of .arcan/config.toml; is the tool installed?",
        ) from error
    buffer = _CappedBuffer(max_output_bytes)

    async def pump() -> None:
        assert process.stdout is not None  # noqa: S101 - set by PIPE above
        if stdin is not None and process.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                process.stdin.write(stdin)
                await process.stdin.drain()
            process.stdin.close()
        while chunk := await process.stdout.read(_CHUNK):
            buffer.add(chunk)

    reader = asyncio.create_task(pump())
    timed_out = False
    try:
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
            _kill_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), _KILL_GRACE_S)
            except TimeoutError:
                _kill_group(process.pid, signal.SIGKILL)
                await process.wait()
        # Children that outlive the command would hold the pipe open; nobody wants them.
        _kill_group(process.pid, signal.SIGKILL)
        await reader
    except asyncio.CancelledError:
        _kill_group(process.pid, signal.SIGKILL)
        reader.cancel()
        # Reap the killed process and read its pipe to the end before the cancellation goes on,
        # so no transport outlives the event loop.
        reap = asyncio.ensure_future(_drain(process, reader))
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(reap), _REAP_S)
        raise
    return CommandResult(
        exit_code=None if timed_out else process.returncode,
        output=buffer.text(),
        timed_out=timed_out,
        truncated=buffer.truncated,
        duration_s=time.monotonic() - started,
    )


async def _drain(process: asyncio.subprocess.Process, reader: asyncio.Task[None]) -> None:
    # The cancelled reader must let go of the stream first: a StreamReader has one reader.
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    await process.wait()
    if process.stdout is not None:
        while await process.stdout.read(_CHUNK):
            pass


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A configured check, with its target parsed and its command split."""

    name: str
    config: CheckConfig
    argv: tuple[str, ...]
    target: Target

    @classmethod
    def from_config(cls, name: str, config: CheckConfig) -> CheckSpec:
        """Build a spec; raise ``ConfigError`` for an empty command or a malformed target."""
        key = f"harness.checks.{name}"
        try:
            argv = tuple(shlex.split(config.command))
        except ValueError as error:
            raise ConfigError(
                f"cannot split the command: {error}", key=f"{key}.command", hint="check quotes"
            ) from error
        if not argv:
            raise ConfigError("the command is empty", key=f"{key}.command")
        return cls(
            name=name,
            config=config,
            argv=argv,
            target=parse_target(config.target, key=f"{key}.target"),
        )


class CheckOutcome(BaseModel):
    """One finished run of a check: the raw result, what the parser found, the verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    target: str
    result: CommandResult
    parsed: ParsedOutput
    met: bool
    reason: str = ""

    def summary(self) -> str:
        """One line for people and models: ``exit 1 · 2 failures, 3 passed``."""
        if self.result.timed_out:
            head = "timed out"
        elif self.result.exit_code is None:
            head = "did not finish"
        else:
            head = f"exit {self.result.exit_code}"
        counts = ", ".join(
            f"{value} {key}" for key, value in self.parsed.counts.items() if value or key in _SHOW
        )
        return f"{head} · {counts}" if counts else head

    def detail(self) -> str:
        """The first failures and the first failure's excerpt, trimmed to what a model needs."""
        parts: list[str] = []
        if self.reason and not self.met:
            parts.append(f"unmet: {self.reason}")
        parts.extend(f"- {failure}" for failure in self.parsed.failures)
        if self.parsed.excerpt:
            parts.append(self.parsed.excerpt)
        return "\n".join(parts)

    def reading(self) -> SensorReading:
        """The event that reports this run against the check's setpoint."""
        status = "error" if self.result.timed_out else ("met" if self.met else "unmet")
        return SensorReading(
            sensor=sensor_name(self.name),
            setpoint=self.target,
            status=status,
            met=self.met,
            value=self.summary(),
            counts=dict(self.parsed.counts),
            detail=self.detail() if not self.met else "",
        )


_SHOW: Final = frozenset({"failures", "errors"})


async def run_check(
    spec: CheckSpec,
    *,
    cwd: Path,
    parsers: ParserRegistry = DEFAULT_PARSERS,
    max_output_bytes: int = DEFAULT_OUTPUT_CAP,
    env: Mapping[str, str] | None = None,
) -> CheckOutcome:
    """Run one check and judge it against its target.

    A command that cannot start is an unmet reading (the reason says why), not an exception: the
    controller must see it and the model can often fix it (a missing dev dependency).
    """
    try:
        result = await run_command(
            spec.argv,
            cwd=cwd,
            timeout_s=spec.config.timeout_s,
            max_output_bytes=max_output_bytes,
            env=env,
        )
    except HarnessError as error:
        result = CommandResult(exit_code=None, output=error.message)
        parsed = ParsedOutput(parser="none", failures=(error.message,))
        return CheckOutcome(
            name=spec.name,
            target=str(spec.target),
            result=result,
            parsed=parsed,
            met=False,
            reason=error.message,
        )
    parsed = parsers.parse(spec.argv, result.output)
    if result.timed_out:
        verdict_met, reason = False, f"timed out after {spec.config.timeout_s:g}s"
    else:
        verdict = spec.target.evaluate(result.exit_code, parsed.counts)
        verdict_met, reason = verdict.met, verdict.reason
    return CheckOutcome(
        name=spec.name,
        target=str(spec.target),
        result=result,
        parsed=parsed,
        met=verdict_met,
        reason=reason,
    )
