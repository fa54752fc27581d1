"""Sub-agent profiles: a ``task`` may name a profile whose tool set is not read-only.

The profile file lives in ``.arcan/agents/``; its sub-agent gets exactly its listed tools (never
``task``), works in the session's approval mode (so its edits are asked for like the main
agent's) and is refused any other tool.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from arcan_core.agent.agents import EXPLORE, discover_agent_profiles, parse_profile
from arcan_core.agent.session import open_core
from arcan_core.agent.subagent import SUBAGENT_NOTE
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import ToolCallAwaitingApproval, ToolCallFinished, TurnFinished
from arcan_core.protocol.messages import ToolResultBlock, Usage
from arcan_core.protocol.operations import AnswerApproval, ApprovalMode, Shutdown, SubmitPrompt
from arcan_core.providers.base import (
    Provider,
    ProviderRequest,
    ProviderSettings,
    StreamEnd,
    TextChunk,
    ToolCallEnd,
    UsageReport,
)
from tests.agent_support import options as base_options
from tests.test_agent_subagent import _call

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from arcan_core.protocol.events import Event
    from arcan_core.providers.base import StreamEvent

FIXER = """\
---
name: fixer
description: Fixes one thing and reports the change.
tools: read, edit
---
Change only what the task names.
"""


class FixerRouter(Provider):
    """The main agent delegates to ``fixer``; the fixer reads, tries bash, edits, reports."""

    name: ClassVar[str] = "router"
    default_model: ClassVar[str] = "router"

    def __init__(self, agent: str = "fixer") -> None:
        super().__init__(ProviderSettings(name="router"))
        self.agent = agent
        self.main_requests: list[ProviderRequest] = []
        self.child_requests: list[ProviderRequest] = []

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        last = request.messages[-1]
        has_results = any(isinstance(b, ToolResultBlock) for b in last.content)
        if SUBAGENT_NOTE in request.system:
            self.child_requests.append(request)
            step = len(self.child_requests)
            if step == 1:
                events = [
                    *_call("c_read", "read", {"path": "target.py"}),
                    *_call("c_bash", "bash", {"command": "rm -rf ."}),
                ]
            elif step == 2:
                events = _call(
                    "c_edit", "edit", {"path": "target.py", "old": "x = 1", "new": "x = 2"}
                )
            else:
                events = [TextChunk(text="fixed target.py")]
        elif not has_results:
            self.main_requests.append(request)
            task = {
                "description": "fix x",
                "prompt": "set x to 2 in target.py",
                "agent": self.agent,
            }
            events = _call("task_1", "task", task)
        else:
            result = next(b for b in last.content if isinstance(b, ToolResultBlock))
            events = [TextChunk(text=f"sub-agent said: {result.content}")]
        for event in events:
            yield event
        yield UsageReport(usage=Usage(input_tokens=10, output_tokens=5))
        yield StreamEnd(
            stop_reason="tool_use"
            if any(isinstance(e, ToolCallEnd) for e in events)
            else "end_turn"
        )

    async def list_models(self) -> list[str]:
        return [self.default_model]


def _project(tmp_path: Path) -> Path:
    (tmp_path / "target.py").write_text("x = 1\n")
    agents = tmp_path / ".arcan" / "agents"
    agents.mkdir(parents=True)
    (agents / "fixer.md").write_text(FIXER)
    return tmp_path


async def _run(
    tmp_path: Path, provider: FixerRouter, mode: ApprovalMode, *, approve: bool = False
) -> list[Event]:
    opts = base_options(
        _project(tmp_path), provider=provider, config=ArcanConfig(provider="router", mode=mode)
    ).replace(tools=None)
    core = await open_core(opts)
    events = core.subscribe()
    core.submit(SubmitPrompt(text="fix x"))
    seen: list[Event] = []
    async with asyncio.timeout(30):
        async for event in events:
            seen.append(event)
            if approve and isinstance(event.msg, ToolCallAwaitingApproval):
                core.submit(AnswerApproval(call_id=event.msg.call_id, decision="allow"))
            if isinstance(event.msg, TurnFinished) and event.parent_call_id is None:
                break
    core.submit(Shutdown())
    await core.wait_closed()
    return seen


def test_profiles_are_discovered_with_their_tools(tmp_path: Path) -> None:
    project = _project(tmp_path)
    home = tmp_path / "home"
    (home / ".agents" / "agents").mkdir(parents=True)
    (home / ".agents" / "agents" / "fixer.md").write_text(FIXER.replace("read, edit", "bash"))
    (home / ".agents" / "agents" / "broken.md").write_text("no frontmatter at all")
    profiles = {p.name: p for p in discover_agent_profiles(project, home)}
    assert set(profiles) == {"explore", "fixer"}  # the project's fixer wins; no description: out
    assert profiles["explore"] is EXPLORE
    assert profiles["explore"].read_only
    assert profiles["fixer"].tools == frozenset({"read", "edit"})
    assert profiles["fixer"].instructions == "Change only what the task names."
    listed = tmp_path / "listed.md"
    listed.write_text("---\ndescription: d\ntools: [read, 'grep']\n---\n")
    parsed = parse_profile(listed)
    assert parsed is not None
    assert parsed.name == "listed"
    assert parsed.tools == frozenset({"read", "grep"})


async def test_a_writing_profile_edits_with_only_its_tools(tmp_path: Path) -> None:
    provider = FixerRouter()
    seen = await _run(tmp_path, provider, "auto-edit")
    # The model was told about the profile.
    task_spec = next(s for s in provider.main_requests[0].tools if s.name == "task")
    assert "fixer: Fixes one thing" in task_spec.description
    # The sub-agent got exactly its tools, and its instructions.
    child = provider.child_requests[0]
    assert {spec.name for spec in child.tools} == {"read", "edit"}
    assert "Change only what the task names." in child.system
    # The edit happened; the shell call it was not given was refused.
    assert (tmp_path / "target.py").read_text() == "x = 2\n"
    nested = {
        e.msg.call_id: e.msg
        for e in seen
        if e.parent_call_id == "task_1" and isinstance(e.msg, ToolCallFinished)
    }
    assert nested["c_bash"].is_error
    assert "not available" in nested["c_bash"].result
    assert not nested["c_edit"].is_error
    top = [e.msg for e in seen if e.parent_call_id is None and isinstance(e.msg, ToolCallFinished)]
    assert top[-1].result == "fixed target.py"


async def test_a_writing_sub_agent_asks_like_the_main_agent(tmp_path: Path) -> None:
    provider = FixerRouter()
    seen = await _run(tmp_path, provider, "ask", approve=True)
    asked = [(e.parent_call_id, e.msg) for e in seen]
    requests = [(p, m.call_id) for p, m in asked if isinstance(m, ToolCallAwaitingApproval)]
    # Asked once, for the edit, nested under the task call so a front-end shows it there.
    assert requests == [("task_1", "c_edit")]
    assert (tmp_path / "target.py").read_text() == "x = 2\n"


async def test_plan_mode_keeps_a_writing_profile_read_only(tmp_path: Path) -> None:
    provider = FixerRouter()
    await _run(tmp_path, provider, "plan")
    assert {spec.name for spec in provider.child_requests[0].tools} == {"read"}
    assert (tmp_path / "target.py").read_text() == "x = 1\n"


async def test_an_unknown_profile_is_an_error_the_model_reads(tmp_path: Path) -> None:
    provider = FixerRouter(agent="nobody")
    seen = await _run(tmp_path, provider, "auto-edit")
    task = next(
        e.msg
        for e in seen
        if e.parent_call_id is None and isinstance(e.msg, ToolCallFinished) and e.msg.name == "task"
    )
    assert task.is_error
    assert "no sub-agent profile named 'nobody'" in task.result
    assert "explore, fixer" in task.result
    assert not provider.child_requests
