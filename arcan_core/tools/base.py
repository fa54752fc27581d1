"""The abstract tool, and the types the agent core and the tool system exchange.

A tool is a class with a pydantic input model. The JSON Schema the model sees is generated from that
model; every call is validated against it with ``jsonschema`` before it runs (see ``validation``).

The agent core hands a batch of ``ToolCallRequest``s to the executor (``executor.ToolExecutor``),
which validates, asks for approval through an ``ApprovalAsker``, runs the calls as actors and
returns one ``ToolOutcome`` per request, in call order. Live events go out through an ``EventSink``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from arcan_core.protocol.events import ApprovalRequest, EventMsg, ToolDisplay
from arcan_core.tools.paths import display_path, resolve_inside, resolve_path
from arcan_core.tools.schema import schemas_of
from arcan_core.tools.state import SessionState

if TYPE_CHECKING:
    from arcan_core.protocol.operations import AnswerApproval
    from arcan_core.tools.sandbox import Sandbox  # noqa: TC004 - only in a string annotation
    from arcan_core.tools.schema import SchemaPair

__all__ = [
    "ApprovalAsker",
    "EventSink",
    "PreviewKind",
    "Tool",
    "ToolCallRequest",
    "ToolCategory",
    "ToolContext",
    "ToolOutcome",
    "ToolResult",
]

ToolCategory = Literal["read", "edit", "execute", "fetch", "meta"]
"""What a tool does, as the approval policy sees it: the mode table is keyed by category."""

PreviewKind = Literal["command", "diff", "text"]

InputT = TypeVar("InputT", bound=BaseModel)


class _Frozen(BaseModel):
    # defer_build: built on a run's first tool call, not by every start-up.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


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
    """Free-form per-session state for tools outside the built-ins (MCP adapters, plugins)."""
    session: SessionState = field(default_factory=SessionState)
    """Files read (with stamps) and the plan, shared by every call of the session."""
    allowed_paths: frozenset[Path] = frozenset()
    """Single paths outside the roots that the user approved for this call or session."""
    sandbox: Sandbox | None = None
    """The sandbox the shell must run under, or ``None`` to run without one."""
    hidden: Callable[[Path], bool] | None = None
    """Paths the user's deny rules keep from reading tools; search results leave them out."""

    def resolve(self, raw: str | Path) -> Path:
        """Resolve a path the model gave, refusing one outside the allowed places.

        Raises:
            PathEscapeError: the path resolves outside the workspace and the allowed roots.
        """
        return resolve_inside(raw, self.workspace, self.extra_roots, self.allowed_paths)

    def resolve_unchecked(self, raw: str | Path) -> Path:
        """Resolve a path without the containment check (for policy and ordering only)."""
        return resolve_path(raw, self.workspace)

    def show(self, path: Path) -> str:
        """Return ``path`` as the model should see it (relative to the workspace when inside)."""
        return display_path(path, self.workspace)


class Tool(ABC, Generic[InputT]):
    """A tool the model can call.

    Subclasses set the class attributes and implement ``run``; ``touched_paths`` lets the executor
    serialise mutating calls on the same path and lets the policy check paths before anything runs.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    input_model: ClassVar[type[BaseModel]]
    read_only: ClassVar[bool] = False
    category: ClassVar[ToolCategory] = "edit"
    rule_name: ClassVar[str | None] = None
    """The family name permission rules may use for this tool too (``edit`` covers ``write``)."""

    @classmethod
    def schema_pair(cls) -> SchemaPair:
        """Return both schemas derived from ``input_model`` (precomputed for arcan's own)."""
        return schemas_of(cls.input_model)

    @classmethod
    def input_schema(cls) -> dict[str, Any]:
        """Return the JSON Schema of the input object, as the model sees it (strict-mode safe)."""
        return cls.schema_pair().model_facing

    @classmethod
    def validation_schema(cls) -> dict[str, Any]:
        """Return the schema calls are validated against (optional properties may be omitted)."""
        return cls.schema_pair().validation

    @abstractmethod
    async def run(self, args: InputT, ctx: ToolContext) -> ToolResult:
        """Do the work. Raise ``ToolError`` subclasses for failures the model should see."""

    def touched_paths(self, args: InputT, ctx: ToolContext) -> tuple[Path, ...]:
        """Return the paths this call reads or writes (resolved), for policy and ordering."""
        del args, ctx
        return ()

    def rule_subjects(self, args: InputT, ctx: ToolContext) -> tuple[str, ...]:
        """Return the strings permission rules match for this call (default: touched paths)."""
        return tuple(ctx.show(path) for path in self.touched_paths(args, ctx))

    def preview(self, args: InputT, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """Return what an approval request shows: the command, a diff, or the arguments."""
        del ctx
        return args.model_dump_json(indent=2, exclude_none=True), "text"

    def summary(self, args: InputT, ctx: ToolContext) -> str:
        """Return a one-line description of the call for the approval prompt."""
        subjects = self.rule_subjects(args, ctx)
        return f"{self.name} {', '.join(subjects)}" if subjects else self.name
