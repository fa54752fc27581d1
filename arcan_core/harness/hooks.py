"""Hooks: the user's own sensors and actuators, run as commands on harness events.

A hook is a ``[[harness.hooks]]`` table: ``event`` (``before_tool``, ``after_edit``, ``turn_end``,
``stop``), ``command``, optional ``tools`` and ``timeout_s``. The command runs without a shell in
the workspace, in its own process group, with the event as JSON on stdin and in ``ARCAN_HOOK_*``
environment variables. Every run is a ``SensorReading`` (``hook:<event>:<n>``) against the
setpoint "exit 0".

A ``before_tool`` hook that exits non-zero blocks the call; its output (first lines) is the reason
the model reads. A hook that cannot run at all also blocks (fail closed): a guard that silently
stopped guarding would be worse than a refused call.

``HookedTools`` wraps the agent core's tool system to run ``before_tool`` and ``after_edit`` hooks
around each batch, and to stop an edit of a file the user changed since the agent read it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from arcan_core.errors import HarnessError
from arcan_core.harness.checks import check_env, run_command
from arcan_core.harness.controller import EDIT_TOOLS, READ_TOOLS
from arcan_core.protocol.events import SensorReading, ToolCallFinished
from arcan_core.tools.base import ToolOutcome

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from arcan_core.config.model import HookConfig
    from arcan_core.harness.watcher import ReadTracker
    from arcan_core.protocol.operations import ApprovalMode
    from arcan_core.providers.base import ToolSpec
    from arcan_core.tools.base import ApprovalAsker, EventSink, ToolCallRequest

__all__ = ["HookOutcome", "HookRunner", "HookedTools", "ToolSystemLike"]

_REASON_LINES: Final = 5


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """One hook run: its exit, its output and the reading that records it."""

    index: int
    event: str
    command: str
    exit_code: int | None
    output: str
    ok: bool

    @property
    def reason(self) -> str:
        """The first lines of the output, or the exit status when it printed nothing."""
        lines = [line for line in self.output.splitlines() if line.strip()][:_REASON_LINES]
        if lines:
            return "\n".join(lines)
        return f"{self.command!r} exited with {self.exit_code}"

    def reading(self) -> SensorReading:
        """The ``SensorReading`` of this run."""
        return SensorReading(
            sensor=f"hook:{self.event}:{self.index}",
            setpoint="exit 0",
            status="met" if self.ok else "unmet",
            met=self.ok,
            value=self.command if self.ok else f"{self.command} → {self.exit_code}",
            detail="" if self.ok else self.reason,
        )


class HookRunner:
    """Runs the configured hooks of one event."""

    def __init__(self, hooks: Sequence[HookConfig], cwd: Path) -> None:
        self._hooks = tuple(hooks)
        self._cwd = cwd

    def applicable(self, event: str, tool: str | None = None) -> list[tuple[int, HookConfig]]:
        """The hooks of ``event`` (and, for tool events, of ``tool``), with their indices."""
        return [
            (i, hook)
            for i, hook in enumerate(self._hooks)
            if hook.event == event and (tool is None or not hook.tools or tool in hook.tools)
        ]

    async def run(
        self, event: str, payload: dict[str, Any], *, tool: str | None = None
    ) -> list[HookOutcome]:
        """Run the hooks of ``event`` one after another; return their outcomes."""
        outcomes: list[HookOutcome] = []
        data = json.dumps({"event": event, **payload}).encode()
        env = check_env({"ARCAN_HOOK_EVENT": event, "ARCAN_TOOL": tool or ""})
        for index, hook in self.applicable(event, tool):
            try:
                argv = shlex.split(hook.command)
                result = await run_command(
                    argv, cwd=self._cwd, timeout_s=hook.timeout_s, env=env, stdin=data
                )
            except (HarnessError, ValueError) as error:
                outcomes.append(HookOutcome(index, event, hook.command, None, str(error), False))
                continue
            ok = result.exit_code == 0 and not result.timed_out
            output = (
                result.output if not result.timed_out else f"timed out after {hook.timeout_s:g}s"
            )
            outcomes.append(HookOutcome(index, event, hook.command, result.exit_code, output, ok))
        return outcomes


def _path_of(arguments: dict[str, Any]) -> str | None:
    for key in ("path", "file_path", "file"):
        value = arguments.get(key)
        if isinstance(value, str):
            return value
    return None


class ToolSystemLike:
    """The agent core's ``ToolSystem`` protocol, restated so this module needs no core import."""

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        """Return the tools offered in ``mode``."""
        raise NotImplementedError

    def set_mode(self, mode: ApprovalMode) -> None:
        """Apply a new approval mode."""
        raise NotImplementedError

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        """Run one step's calls."""
        raise NotImplementedError


class HookedTools:
    """A tool system that runs hooks around another and guards edits of files the user changed.

    Blocked calls never reach the inner system; they come back as denied outcomes with the
    hook's reason, in their place in call order.
    """

    def __init__(self, inner: Any, hooks: HookRunner, *, reads: ReadTracker | None = None) -> None:
        self._inner = inner
        self._hooks = hooks
        self._reads = reads

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        """The inner system's tools."""
        return self._inner.specs(mode)  # type: ignore[no-any-return]

    def set_mode(self, mode: ApprovalMode) -> None:
        """Forward the approval mode."""
        self._inner.set_mode(mode)

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        """Run hooks before each call, the allowed calls, then the after-edit hooks."""
        blocked: dict[str, ToolOutcome] = {}
        for call in calls:
            reason = await self._guard(call, emit)
            if reason is not None:
                outcome = ToolOutcome(
                    call_id=call.call_id,
                    name=call.name,
                    input=_arguments(call),
                    content=reason,
                    is_error=True,
                    denied=True,
                )
                blocked[call.call_id] = outcome
                emit(
                    ToolCallFinished(
                        call_id=call.call_id,
                        name=call.name,
                        input=outcome.input,
                        result=reason,
                        is_error=True,
                        denied=True,
                    )
                )
        allowed = [call for call in calls if call.call_id not in blocked]
        ran = await self._inner.run_batch(allowed, emit=emit, ask=ask) if allowed else []
        by_id = {outcome.call_id: outcome for outcome in ran}
        for outcome in ran:
            if outcome.name in EDIT_TOOLS and not outcome.is_error:
                path = _path_of(outcome.input)
                if self._reads is not None and path is not None:
                    self._reads.record(path)
                payload = {"tool": outcome.name, "input": outcome.input, "path": path}
                for hook in await self._hooks.run("after_edit", payload, tool=outcome.name):
                    emit(hook.reading())
            elif outcome.name in READ_TOOLS and not outcome.is_error and self._reads is not None:
                path = _path_of(outcome.input)
                if path is not None:
                    self._reads.record(path)
        return [blocked.get(call.call_id) or by_id[call.call_id] for call in calls]

    async def _guard(self, call: ToolCallRequest, emit: EventSink) -> str | None:
        arguments = _arguments(call)
        if self._reads is not None and call.name in EDIT_TOOLS:
            path = _path_of(arguments)
            notice = self._reads.notice_before_edit(path) if path is not None else None
            if notice is not None:
                return notice
        payload = {"tool": call.name, "input": arguments}
        for hook in await self._hooks.run("before_tool", payload, tool=call.name):
            emit(hook.reading())
            if not hook.ok:
                return f"Blocked by a before_tool hook ({hook.command}):\n{hook.reason}"
        return None


def _arguments(call: ToolCallRequest) -> dict[str, Any]:
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
