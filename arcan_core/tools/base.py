"""The abstract tool, and the types the agent core and the tool system exchange.

A tool is a class with a pydantic input model. The JSON Schema the model sees is generated from that
model; every call is validated against it with ``jsonschema`` before it runs (see ``validation``).

The agent core hands a batch of ``ToolCallRequest``s to the executor (``executor.ToolExecutor``),
which validates, asks for approval through an ``ApprovalAsker``, runs the calls as actors and
returns one ``ToolOutcome`` per request, in call order. Live events go out through an ``EventSink``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from arcan_core.protocol.events import ApprovalRequest, EventMsg, ToolDisplay

if TYPE_CHECKING:
    from arcan_core.protocol.operations import AnswerApproval

__all__ = [
    "ApprovalAsker",
    "EventSink",
    "Tool",
    "ToolCallRequest",
    "ToolContext",
    "ToolOutcome",
    "ToolResult",
]

InputT = TypeVar("InputT", bound=BaseModel)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolCallRequest(_Frozen):
    """A call as the model made it: ``arguments`` is the raw JSON text, not yet trusted."""

    call_id: str
    name: str
    arguments: str


class ToolOutcome(_Frozen):
    """The end of one call: ``content`` goes to the model, ``display`` to front-ends."""

    call_id: str
    name: str
    input: dict[str, Any]
    content: str
    is_error: bool = False
    denied: bool = False
    display: ToolDisplay | None = None


class ToolResult(_Frozen):
    """What a tool's ``run`` returns."""

    content: str
    is_error: bool = False
    display: ToolDisplay | None = None


class EventSink(Protocol):
    """Where live events of a call go (the core's event bus)."""

    def __call__(self, msg: EventMsg, /) -> None:
        """Emit one event payload."""


class ApprovalAsker(Protocol):
    """Asks the user (through an event) and waits for the ``AnswerApproval`` operation."""

    async def __call__(
        self, call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
    ) -> AnswerApproval:
        """Return the user's answer; headless askers deny at once with a reason."""


@dataclass
class ToolContext:
    """What a running tool may use: the workspace, the session's file memory, live output."""

    workspace: Path
    call_id: str
    emit: EventSink
    extra_roots: tuple[Path, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    """Per-session state shared by tools (e.g. which files were read, and their mtimes)."""


class Tool(ABC, Generic[InputT]):
    """A tool the model can call.

    Subclasses set the class attributes and implement ``run``; ``touched_paths`` lets the executor
    serialise mutating calls on the same path and lets the policy check paths before anything runs.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    input_model: ClassVar[type[BaseModel]]
    read_only: ClassVar[bool] = False

    @classmethod
    def input_schema(cls) -> dict[str, Any]:
        """Return the JSON Schema of the input object, as the model sees it."""
        return cls.input_model.model_json_schema()

    @abstractmethod
    async def run(self, args: InputT, ctx: ToolContext) -> ToolResult:
        """Do the work. Raise ``ToolError`` subclasses for failures the model should see."""

    def touched_paths(self, args: InputT, ctx: ToolContext) -> tuple[Path, ...]:
        """Return the paths this call reads or writes (resolved), for policy and ordering."""
        del args, ctx
        return ()
