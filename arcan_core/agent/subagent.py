"""The ``task`` tool: a sub-agent with its own context that returns its final answer.

The sub-agent runs the same turn loop as the main agent with a fresh conversation, the session's
provider and model, and the tools of its profile (``arcan_core.agent.agents``): by default
``explore``, the read-only set of the ``plan`` mode. A profile may list other tools; such a
sub-agent runs in the session's approval mode, so its edits and commands are asked for (or
refused headless) exactly like the main agent's, and only one such sub-agent runs at a time so
two of them never edit the same files at once. Sub-agents never get ``task`` (they do not nest),
and a call to a tool outside the profile is refused. Several read-only ``task`` calls in one step
run concurrently: the executor runs read-only calls side by side as actors.

Its events go out on the session's bus stamped with the parent call's id, so a front-end can show
them nested under the call, and replay skips them (they are not the main conversation). Its usage
and cost are charged to the parent task, so budgets and totals include them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.agent.agents import EXPLORE, AgentProfile
from arcan_core.agent.approvals import nested_asker
from arcan_core.agent.loop import Turn
from arcan_core.agent.state import AgentState
from arcan_core.errors import ToolError, ToolInputError
from arcan_core.protocol.messages import Usage
from arcan_core.tools.base import Tool, ToolCategory, ToolContext, ToolResult

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from arcan_core.agent.state import AgentParts, ToolSystem
    from arcan_core.protocol.events import Event, EventMsg
    from arcan_core.protocol.operations import ApprovalMode
    from arcan_core.providers.base import ToolSpec
    from arcan_core.tools.base import ApprovalAsker, EventSink, ToolCallRequest, ToolOutcome

__all__ = ["SubAgents", "TaskInput", "TaskTool", "task_tool"]

SUBAGENT_NOTE = """\
# You are a sub-agent
The main agent gave you one task. Work on it alone with your tools, then answer with a complete, \
self-contained report: what you found or did, with exact paths, names and line numbers. Your \
answer is all the main agent sees of your work."""

READ_ONLY_NOTE = """\
Your tools are read-only: you cannot change files or run commands that change things."""


class RestrictedTools:
    """A sub-agent's view of the session's tools: only ``allowed`` (``None``: all but ``task``).

    Only the specs are filtered: the turn loop refuses any call to a tool its step did not
    offer, so a model that calls another tool by name learns so and never reaches it.
    """

    def __init__(self, inner: ToolSystem, allowed: frozenset[str] | None) -> None:
        self._inner = inner
        self._allowed = allowed

    def _offered(self, name: str) -> bool:
        return name != TaskTool.name and (self._allowed is None or name in self._allowed)

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        """The inner specs this sub-agent may use."""
        return tuple(spec for spec in self._inner.specs(mode) if self._offered(spec.name))

    def set_mode(self, mode: ApprovalMode) -> None:
        """A sub-agent keeps the mode it started in: session mode changes do not reach it."""
        del mode

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        """Run through the inner system (the loop already refused calls to tools not offered)."""
        return await self._inner.run_batch(calls, emit=emit, ask=ask)


class SubAgents:
    """Spawns sub-agents for a session; bound to the session's parts once they exist."""

    def __init__(
        self,
        tools_for: Callable[[ApprovalMode], ToolSystem],
        profiles: Sequence[AgentProfile] = (EXPLORE,),
    ) -> None:
        """Take the factory of tool systems (each with its own executor) and the profiles."""
        self.tools_for = tools_for
        self.profiles = {profile.name: profile for profile in profiles}
        self.profiles.setdefault(EXPLORE.name, EXPLORE)
        self.publish: Callable[[EventMsg, str | None], Event] | None = None
        self.parts: AgentParts | None = None
        self.state: AgentState | None = None
        self.pending_usage = Usage()
        self.pending_cost_usd = 0.0
        self._one_writer = asyncio.Lock()
        """Held while a sub-agent that may change files runs: such sub-agents run one at a time."""

    def bind(
        self,
        parts: AgentParts,
        state: AgentState,
        publish: Callable[[EventMsg, str | None], Event],
    ) -> None:
        """Attach to the session (after its parts are built)."""
        self.parts = parts
        self.publish = publish
        self.state = state
        state.sub_agents = self

    def take_charges(self) -> tuple[Usage, float]:
        """Return and reset the usage and cost sub-agents spent since the last call."""
        charged = (self.pending_usage, self.pending_cost_usd)
        self.pending_usage, self.pending_cost_usd = Usage(), 0.0
        return charged

    def profile(self, name: str | None) -> AgentProfile:
        """Return the profile called ``name`` (``None``: ``explore``).

        Raises:
            ToolInputError: no profile has that name (the model reads the list).
        """
        profile = self.profiles.get(name or EXPLORE.name)
        if profile is None:
            names = ", ".join(sorted(self.profiles))
            raise ToolInputError(f"no sub-agent profile named {name!r}; the profiles: {names}")
        return profile

    async def run(
        self, call_id: str, description: str, prompt: str, agent: str | None = None
    ) -> str:
        """Run one sub-agent to its end and return its final answer."""
        profile = self.profile(agent)
        if profile.read_only:
            return await self._run(call_id, description, prompt, profile)
        async with self._one_writer:
            return await self._run(call_id, description, prompt, profile)

    async def _run(self, call_id: str, description: str, prompt: str, profile: AgentProfile) -> str:
        parts, publish, state = self.parts, self.publish, self.state
        if parts is None or publish is None or state is None:
            raise ToolError("sub-agents are not available in this session")
        # Never looser than the session: a writing profile runs in the session's current mode.
        mode: ApprovalMode = "plan" if profile.read_only else state.mode
        notes = [SUBAGENT_NOTE]
        if mode == "plan":
            notes.append(READ_ONLY_NOTE)
        if profile.instructions:
            notes.append(profile.instructions)
        child_parts = replace(
            parts,
            tools=RestrictedTools(self.tools_for(mode), profile.tools),
            ask=nested_asker(parts.ask, call_id),
            system_prompt="\n\n".join([parts.system_prompt, *notes]),
            supervisor=None,
            checkpoints=None,
        )
        child_state = AgentState(mode=mode)

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
    agent: str | None = Field(
        default=None,
        description="The sub-agent profile to use (default: explore, read-only research).",
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
        answer = await self.host.run(ctx.call_id, args.description, args.prompt, args.agent)
        return ToolResult(content=answer)

    def summary(self, args: TaskInput, ctx: ToolContext) -> str:
        """One line for approvals and progress."""
        del ctx
        agent = f" ({args.agent})" if args.agent else ""
        return f"task{agent}: {args.description}"


def task_tool(host: SubAgents) -> TaskTool:
    """Return the ``task`` tool for ``host``; its description lists the profiles beyond ``explore``.

    The model picks a profile by name, so the names and descriptions must be in what it reads;
    with only the built-in profile the plain ``TaskTool`` is used.
    """
    extra = [profile for name, profile in host.profiles.items() if name != EXPLORE.name]
    if not extra:
        return TaskTool(host)
    listing = "\n".join(
        f"- {p.name}: {p.description}"
        + ("" if p.read_only else f" (tools: {', '.join(sorted(p.tools or ()))})")
        for p in [host.profiles[EXPLORE.name], *extra]
    )
    described = type(
        "ProfiledTaskTool",
        (TaskTool,),
        {
            "description": (
                "Start a sub-agent with its own context for a self-contained task. It returns "
                "its final report. Several read-only task calls in one reply run at the same "
                "time. Pick its profile with `agent`:\n" + listing
            )
        },
    )
    tool: TaskTool = described(host)
    return tool
