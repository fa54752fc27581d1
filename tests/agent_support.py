"""Helpers for the agent-core tests: a scripted model, a small real tool system, events."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arcan_core.agent.session import CoreOptions, open_core
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import (
    Event,
    ToolCallFinished,
    TurnFinished,
)
from arcan_core.protocol.messages import Message, ToolResultBlock
from arcan_core.providers.base import ModelInfo, ProviderSettings, ToolSpec
from arcan_core.providers.scripted import Script, ScriptedProvider
from arcan_core.tools.base import ToolOutcome

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arcan_core.agent.daemon import CoreDaemon
    from arcan_core.protocol.operations import ApprovalMode  # noqa: TC004 - string annotation
    from arcan_core.tools.base import ApprovalAsker, EventSink, ToolCallRequest

MODEL = ModelInfo(
    id="scripted-demo",
    provider="scripted",
    context_window=200_000,
    max_output_tokens=8192,
    input_per_mtok=3.0,
    output_per_mtok=15.0,
)


@dataclass
class FileTools:
    """A small tool system with real effects in a directory: ``read``, ``write``, ``slow``.

    ``write`` needs approval (asked through the core's asker); ``slow`` waits on an event the test
    controls, so a test can interrupt while a tool runs without sleeping on the clock.
    """

    root: Path
    mode: ApprovalMode = "ask"
    release: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[str] = field(default_factory=list)

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        obj: dict[str, Any] = {"type": "object", "properties": {"path": {"type": "string"}}}
        read = ToolSpec(name="read", description="read a file", input_schema=obj)
        write = ToolSpec(name="write", description="write a file", input_schema=obj)
        slow = ToolSpec(name="slow", description="wait", input_schema={"type": "object"})
        return (read, slow) if mode == "plan" else (read, write, slow)

    def set_mode(self, mode: ApprovalMode) -> None:
        self.mode = mode

    async def _one(self, call: ToolCallRequest, emit: EventSink, ask: ApprovalAsker) -> ToolOutcome:
        from arcan_core.protocol.events import ApprovalRequest  # noqa: PLC0415

        self.calls.append(call.name)
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as error:
            return self._done(emit, call, {}, f"invalid JSON arguments: {error}", error=True)
        if call.name == "read":
            path = self.root / args["path"]
            try:
                return self._done(emit, call, args, path.read_text())
            except OSError as error:
                return self._done(emit, call, args, str(error), error=True)
        if call.name == "write":
            if self.mode != "full-auto":
                request = ApprovalRequest(
                    tool="write",
                    summary=f"write {args['path']}",
                    preview="",
                    cwd=str(self.root),
                    reason="ask mode",
                )
                answer = await ask(call.call_id, call.name, args, request)
                if answer.decision == "deny":
                    return self._done(emit, call, args, answer.reason or "denied", denied=True)
            (self.root / args["path"]).write_text(args.get("text", ""))
            return self._done(emit, call, args, "written")
        if call.name == "slow":
            self.started.set()
            await self.release.wait()
            return self._done(emit, call, args, "slow done")
        return self._done(emit, call, args, f"unknown tool {call.name}", error=True)

    @staticmethod
    def _done(
        emit: EventSink,
        call: ToolCallRequest,
        args: dict[str, Any],
        content: str,
        *,
        error: bool = False,
        denied: bool = False,
    ) -> ToolOutcome:
        emit(
            ToolCallFinished(
                call_id=call.call_id,
                name=call.name,
                input=args,
                result=content,
                is_error=error or denied,
                denied=denied,
            )
        )
        return ToolOutcome(
            call_id=call.call_id,
            name=call.name,
            input=args,
            content=content,
            is_error=error or denied,
            denied=denied,
        )

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        return list(await asyncio.gather(*(self._one(c, emit, ask) for c in calls)))


def scripted(steps: Sequence[Any], *, repeat: bool = False) -> ScriptedProvider:
    script = Script.model_validate({"steps": steps, "repeat": repeat})
    return ScriptedProvider(ProviderSettings(name="scripted"), script=script)


def options(
    project: Path,
    steps: Sequence[Any] | None = None,
    *,
    tools: Any = None,
    **changes: Any,
) -> CoreOptions:
    base = CoreOptions(
        project_dir=project,
        config=ArcanConfig(provider="scripted"),
        provider=scripted(steps) if steps is not None else None,
        model_info=MODEL,
        tools=tools if tools is not None else FileTools(project),
        home=project / "home",
        checkpoints=False,
    )
    return base.replace(**changes)


async def collect_turn(core: CoreDaemon, events: Any) -> list[Event]:
    """Read events until a ``TurnFinished``."""
    seen: list[Event] = []
    async for event in events:
        seen.append(event)
        if isinstance(event.msg, TurnFinished):
            return seen
    return seen


async def start(opts: CoreOptions) -> CoreDaemon:
    return await open_core(opts)


def of_type(events: Sequence[Event], kind: type) -> list[Any]:
    return [event.msg for event in events if isinstance(event.msg, kind)]


def valid(messages: Sequence[Message]) -> bool:
    """Alternating roles, starting with user, every call answered in the next message."""
    for index, message in enumerate(messages):
        if index == 0 and message.role != "user":
            return False
        if index and messages[index - 1].role == message.role:
            return False
        if not message.content:
            return False
        calls = {c.id for c in message.tool_uses()}
        if calls:
            following = messages[index + 1] if index + 1 < len(messages) else None
            answered = {
                b.tool_use_id
                for b in (following.content if following else ())
                if isinstance(b, ToolResultBlock)
            }
            if answered != calls:
                return False
        if message.role == "user":
            previous = messages[index - 1].tool_uses() if index else ()
            ids = {c.id for c in previous}
            for block in message.content:
                if isinstance(block, ToolResultBlock) and block.tool_use_id not in ids:
                    return False
    return True
