"""The ``task`` tool: concurrent read-only sub-agents, nested events, cost charged to the parent."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, ClassVar

from arcan_core.agent.session import open_core
from arcan_core.agent.subagent import SUBAGENT_NOTE
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import (
    MessageAppended,
    ToolCallFinished,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import ToolResultBlock, Usage
from arcan_core.protocol.operations import Shutdown, SubmitPrompt
from arcan_core.providers.base import (
    Provider,
    ProviderRequest,
    ProviderSettings,
    StreamEnd,
    TextChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    UsageReport,
)
from arcan_core.store import load_session, rebuild
from tests.agent_support import MODEL
from tests.agent_support import options as base_options

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from arcan_core.protocol.events import Event
    from arcan_core.providers.base import StreamEvent


def _call(call_id: str, name: str, args: dict[str, Any]) -> list[StreamEvent]:
    return [
        ToolCallBegin(call_id=call_id, name=name),
        ToolCallChunk(call_id=call_id, fragment=json.dumps(args)),
        ToolCallEnd(call_id=call_id),
    ]


class Router(Provider):
    """Answers the main agent and its sub-agents by who is asking.

    The first sub-agent's first reply waits until the second sub-agent has asked too: if the
    two did not run concurrently, the test would time out instead of passing.
    """

    name: ClassVar[str] = "router"
    default_model: ClassVar[str] = "router"

    def __init__(self) -> None:
        super().__init__(ProviderSettings(name="router"))
        self.child_requests: list[ProviderRequest] = []
        self.both_asked = asyncio.Event()

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        last = request.messages[-1]
        has_results = any(isinstance(b, ToolResultBlock) for b in last.content)
        if SUBAGENT_NOTE in request.system:
            events = await self._child(request, last.text(), has_results, last)
        elif not has_results:
            events = [
                TextChunk(text="Delegating."),
                *_call("task_a", "task", {"description": "read a", "prompt": "read a.txt"}),
                *_call("task_b", "task", {"description": "read b", "prompt": "read b.txt"}),
            ]
        else:
            answers = " | ".join(b.content for b in last.content if isinstance(b, ToolResultBlock))
            events = [TextChunk(text=f"Both done: {answers}")]
        for event in events:
            yield event
        yield UsageReport(usage=Usage(input_tokens=1000, output_tokens=100))
        yield StreamEnd(stop_reason="tool_use" if not has_results else "end_turn")

    async def _child(
        self, request: ProviderRequest, text: str, has_results: bool, last: Any
    ) -> list[StreamEvent]:
        self.child_requests.append(request)
        if has_results:
            found = next(b.content for b in last.content if isinstance(b, ToolResultBlock))
            return [TextChunk(text=f"report: {found.strip()}")]
        if len(self.child_requests) >= 2:
            self.both_asked.set()
        await asyncio.wait_for(self.both_asked.wait(), timeout=10)
        path = text.rsplit(maxsplit=1)[-1]
        return _call(f"read_{path}", "read", {"path": path})

    async def list_models(self) -> list[str]:
        return [self.default_model]


async def test_two_sub_agents_run_concurrently_and_report(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "b.txt").write_text("beta\n")
    provider = Router()
    opts = base_options(
        tmp_path, provider=provider, config=ArcanConfig(provider="router", mode="ask")
    ).replace(tools=None)
    core = await open_core(opts)
    events = core.subscribe()
    core.submit(SubmitPrompt(text="read both files with sub-agents"))
    seen: list[Event] = []
    async for event in events:
        seen.append(event)
        if isinstance(event.msg, TurnFinished) and event.parent_call_id is None:
            break
    top = [e for e in seen if e.parent_call_id is None]
    finished = top[-1].msg
    assert isinstance(finished, TurnFinished)
    assert finished.stop_reason == "end_turn"
    answer = core.messages[-1].text()
    assert answer.startswith("Both done: report: ")
    assert answer.index("alpha") < answer.index("beta")  # results in call order

    # Each sub-agent's events are nested under its call.
    for call_id, content in (("task_a", "alpha"), ("task_b", "beta")):
        nested = [e.msg for e in seen if e.parent_call_id == call_id]
        assert isinstance(nested[0], TurnStarted)
        assert isinstance(nested[-1], TurnFinished)
        reads = [m for m in nested if isinstance(m, ToolCallFinished)]
        assert reads[0].result.strip().endswith(content)

    # Sub-agents get read-only tools and no task tool of their own.
    names = {spec.name for spec in provider.child_requests[0].tools}
    assert "read" in names
    assert "task" not in names
    assert "write" not in names

    # Cost: two parent steps and four child steps, each 1000 tokens in and 100 out.
    step_cost = MODEL.cost_usd(Usage(input_tokens=1000, output_tokens=100))
    assert abs(finished.cost_usd - 6 * step_cost) < 1e-9
    last_usage = [e.msg for e in top if isinstance(e.msg, UsageUpdated)][-1]
    assert abs(last_usage.session_cost_usd - 6 * step_cost) < 1e-9

    core.submit(Shutdown())
    await core.wait_closed()
    # Replay rebuilds only the main conversation; the sub-agents' messages stay nested.
    loaded = load_session(tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl")
    state = rebuild(loaded.header, loaded.events)
    assert [m.role for m in state.messages] == ["user", "assistant", "user", "assistant"]
    assert abs(state.cost_usd - 6 * step_cost) < 1e-9
    nested_records = [
        e for e in loaded.events if e.parent_call_id and isinstance(e.msg, MessageAppended)
    ]
    assert nested_records
