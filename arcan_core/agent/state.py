"""The parts an agent is built from, and the mutable state the core task alone owns.

``AgentParts`` are validated once by the builder and then fixed for the session (apart from the
provider and model, which ``SetModel`` swaps). ``AgentState`` is the conversation and its meters;
only the core task mutates it, and every mutation is announced by a record event, so replaying the
log rebuilds the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from arcan_core.agent.checkpoints import Checkpoints
from arcan_core.agent.conversation import IncrementalRepair, view_message
from arcan_core.agent.supervisor import TurnSupervisor
from arcan_core.protocol.messages import Message, Usage
from arcan_core.protocol.operations import ApprovalMode
from arcan_core.providers.base import ModelInfo, Provider
from arcan_core.tools.base import ApprovalAsker

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arcan_core.providers.base import ToolSpec
    from arcan_core.tools.base import EventSink, ToolCallRequest, ToolOutcome

__all__ = ["AgentParts", "AgentState", "ToolSystem", "TurnLimits", "estimate_tokens"]


def estimate_tokens(text: str) -> int:
    """Rough token count of ``text`` (four characters a token), for decisions before a request."""
    return (len(text) + 3) // 4


def message_tokens(message: Message) -> int:
    """Rough token count of one message."""
    return estimate_tokens(message.model_dump_json()) + 4


class ChargeSource(Protocol):
    """Where usage spent on the task's behalf comes from (sub-agents)."""

    def take_charges(self) -> tuple[Usage, float]:
        """Return and reset the usage and cost spent since the last call."""


class ToolSystem(Protocol):
    """What the loop needs of the tool system: specs by mode, and a batch runner."""

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        """Return the tools offered to the model in ``mode``."""

    def set_mode(self, mode: ApprovalMode) -> None:
        """Apply a new approval mode to later calls."""

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        """Run one step's calls; return one outcome per call, in call order."""


@dataclass(frozen=True)
class TurnLimits:
    """Budgets of one task (a prompt and all the steps it takes)."""

    max_steps: int = 30
    max_cost_usd: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class RequestSettings:
    """Per-request knobs from the config."""

    max_output_tokens: int | None = None
    thinking_budget: int | None = None
    reasoning_effort: str | None = None


@dataclass
class AgentParts:
    """The validated parts of an agent."""

    session_id: str
    workspace: Path
    provider: Provider
    model: ModelInfo
    tools: ToolSystem
    system_prompt: str
    ask: ApprovalAsker
    limits: TurnLimits = field(default_factory=TurnLimits)
    settings: RequestSettings = field(default_factory=RequestSettings)
    supervisor: TurnSupervisor | None = None
    checkpoints: Checkpoints | None = None
    compact_threshold: float = 0.85
    """Compact when the estimated context passes this share of the usable window."""


@dataclass
class AgentState:
    """The conversation and its meters. Owned and mutated by the core task only."""

    mode: ApprovalMode
    messages: list[Message] = field(default_factory=list)
    session_usage: Usage = field(default_factory=Usage)
    session_cost_usd: float = 0.0
    harness_enabled: bool = False
    last_context_tokens: int = 0
    """Context occupied by the last request and its reply, as the provider reported it."""
    messages_at_last_request: int = 0
    turns: int = 0
    sub_agents: ChargeSource | None = None
    """Sub-agents whose spending the running task absorbs after each tool batch."""
    repairer: IncrementalRepair = field(default_factory=lambda: IncrementalRepair(view_message))
    """Repairs the conversation before each request in time linear in the current task."""

    def context_estimate(self, base_tokens: int) -> int:
        """Estimate the context the next request will occupy.

        The provider's own count of the last request is exact; messages appended since are
        estimated. Before any request, ``base_tokens`` (system prompt and tools) stands in.
        """
        known = self.last_context_tokens or base_tokens
        start = min(self.messages_at_last_request, len(self.messages))
        return known + sum(message_tokens(m) for m in self.messages[start:])
