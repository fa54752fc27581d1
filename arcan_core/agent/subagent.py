"""The ``task`` tool: a sub-agent with its own context that returns its final answer.

The sub-agent runs the same turn loop as the main agent with a fresh conversation, the session's
provider and model, and read-only tools (the ``plan`` mode's set, without ``task`` itself, so
sub-agents do not nest). Several ``task`` calls in one step run concurrently: the executor runs
read-only calls side by side as actors.

Its events go out on the session's bus stamped with the parent call's id, so a front-end can show
them nested under the call, and replay skips them (they are not the main conversation). Its usage
and cost are charged to the parent task, so budgets and totals include them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.agent.loop import Turn
from arcan_core.agent.state import AgentState
from arcan_core.errors import ToolError
from arcan_core.protocol.messages import Usage
from arcan_core.tools.base import Tool, ToolCategory, ToolContext, ToolResult

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from arcan_core.agent.state import AgentParts, ToolSystem
    from arcan_core.protocol.events import Event, EventMsg
    from arcan_core.protocol.operations import ApprovalMode
    from arcan_core.providers.base import ToolSpec
    from arcan_core.tools.base import ApprovalAsker, EventSink, ToolCallRequest, ToolOutcome

__all__ = ["SubAgents", "TaskInput", "TaskTool"]

SUBAGENT_NOTE = """\
# You are a sub-agent
The main agent gave you one task. Work on it alone with your read-only tools (you cannot change \
files or run commands that change things), then answer with a complete, self-contained report: \
what you found, with exact paths, names and line numbers. Your answer is all the main agent \
sees of your work."""


class ExcludingTools:
    """A tool system without some tools (sub-agents do not get ``task``)."""

    def __init__(self, inner: ToolSystem, exclude: frozenset[str]) -> None:
        self._inner = inner
        self._exclude = exclude

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        """The inner specs less the excluded tools."""
        return tuple(spec for spec in self._inner.specs(mode) if spec.name not in self._exclude)

    def set_mode(self, mode: ApprovalMode) -> None:
        """Sub-agents stay in ``plan``: mode changes of the session do not reach them."""
        del mode

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        """Run through the inner system."""
        return await self._inner.run_batch(calls, emit=emit, ask=ask)


class SubAgents:
    """Spawns sub-agents for a session; bound to the session's parts once they exist."""

    def __init__(self, tools_for: Callable[[ApprovalMode], ToolSystem]) -> None:
        """Take the factory of tool systems (each with its own executor) in a given mode."""
        self.tools_for = tools_for
        self.publish: Callable[[EventMsg, str | None], Event] | None = None
        self.parts: AgentParts | None = None
        self.pending_usage = Usage()
        self.pending_cost_usd = 0.0

    def bind(
        self,
        parts: AgentParts,
        state: AgentState,
        publish: Callable[[EventMsg, str | None], Event],
    ) -> None:
        """Attach to the session (after its parts are built)."""
        self.parts = parts
        self.publish = publish
        state.sub_agents = self

    def take_charges(self) -> tuple[Usage, float]:
        """Return and reset the usage and cost sub-agents spent since the last call."""
        charged = (self.pending_usage, self.pending_cost_usd)
        self.pending_usage, self.pending_cost_usd = Usage(), 0.0
        return charged

    async def run(self, call_id: str, description: str, prompt: str) -> str:
        """Run one sub-agent to its end and return its final answer."""
        parts, publish = self.parts, self.publish
        if parts is None or publish is None:
            raise ToolError("sub-agents are not available in this session")
        tools = ExcludingTools(self.tools_for("plan"), frozenset({TaskTool.name}))
        child_parts = replace(
            parts,
            tools=tools,
            system_prompt=f"{parts.system_prompt}\n\n{SUBAGENT_NOTE}",
            supervisor=None,
            checkpoints=None,
        )
        child_state = AgentState(mode="plan")

        def emit(msg: EventMsg) -> Event:
            return publish(msg, call_id)

        turn = Turn(child_parts, child_state, emit, turn_id=f"{call_id}.task", prompt=prompt)
        try:
            finished = await turn.drive()
        except asyncio.CancelledError:
            await asyncio.shield(turn.finish_interrupted())
            raise
        finally:
            self.pending_usage = self.pending_usage + turn.usage
            self.pending_cost_usd += turn.cost_usd
        answer = next(
            (m.text() for m in reversed(child_state.messages) if m.role == "assistant"), ""
        )
        if finished.stop_reason == "error":
            raise ToolError(f"the sub-agent for {description!r} failed; partial answer: {answer}")
        return answer or f"The sub-agent for {description!r} ended without an answer."


class TaskInput(BaseModel):
    """Input of the ``task`` tool."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(description="A short title of the task (3 to 6 words).")
    prompt: str = Field(
        description="The whole task for the sub-agent: what to find out and what to report. "
        "It sees nothing of this conversation, so include every detail it needs."
    )


class TaskTool(Tool[TaskInput]):
    """Delegate a self-contained research task to a read-only sub-agent."""

    name: ClassVar[str] = "task"
    description: ClassVar[str] = (
        "Start a sub-agent with its own context for a self-contained, read-only task (searching "
        "a codebase, reading many files, answering a question about the code). It returns its "
        "final report. Several task calls in one reply run at the same time. It cannot change "
        "files; do changes yourself."
    )
    input_model: ClassVar[type[BaseModel]] = TaskInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "read"

    def __init__(self, host: SubAgents) -> None:
        self.host = host

    async def run(self, args: TaskInput, ctx: ToolContext) -> ToolResult:
        """Run the sub-agent and return its answer."""
        answer = await self.host.run(ctx.call_id, args.description, args.prompt)
        return ToolResult(content=answer)

    def summary(self, args: TaskInput, ctx: ToolContext) -> str:
        """One line for approvals and progress."""
        del ctx
        return f"task: {args.description}"
