"""Events: what the core tells every front-end and the session log.

The core emits payloads (``EventMsg``); the event bus wraps each in an ``Event`` envelope with the
session id, a sequence number that increases by one per event, a UTC timestamp and, for events of a
sub-agent, the id of the parent tool call. The session log stores envelopes verbatim, so what a
front-end sees live and what a resumed session replays are the same records.

Deltas (text, thinking, arguments, output) are for live display. The records that rebuild state are
``MessageAppended`` (the conversation), ``ContextCompacted``, ``ModelChanged``, ``ModeChanged``,
``ReasoningChanged``, ``SensorReading`` and ``ControllerDecision``: replaying those in order gives
the exact state.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import to_json

from arcan_core.protocol.messages import Message, StopReason, Usage
from arcan_core.protocol.operations import ApprovalMode, ApprovalScope, ReasoningEffort

__all__ = [
    "SCHEMA_VERSION",
    "ApprovalRequest",
    "ContextCompacted",
    "ControllerDecision",
    "ErrorEvent",
    "Event",
    "EventMsg",
    "FilesRestored",
    "HarnessToggled",
    "MessageAppended",
    "ModeChanged",
    "ModelChanged",
    "PromptQueued",
    "ReasoningChanged",
    "RetryScheduled",
    "SensorReading",
    "SessionSaved",
    "TextDelta",
    "ThinkingDelta",
    "ToolCallArgumentsDelta",
    "ToolCallAwaitingApproval",
    "ToolCallFinished",
    "ToolCallOutput",
    "ToolCallStarted",
    "ToolDisplay",
    "TurnFinished",
    "TurnStarted",
    "UsageUpdated",
    "Warning",
]

SCHEMA_VERSION = 1
"""Version of every persisted record. Readers migrate older versions and refuse newer ones."""


class _Msg(BaseModel):
    # defer_build: the validator and serializer are built on first use, not at import. A run
    # uses a handful of these types; building all of them cost every start-up ~10 ms.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class TurnStarted(_Msg):
    """A task began: the user's prompt starts a turn of one or more model steps."""

    type: Literal["turn_started"] = "turn_started"
    turn_id: str
    prompt: str


class PromptQueued(_Msg):
    """A prompt arrived while a turn runs; it will be given to the model at its next step."""

    type: Literal["prompt_queued"] = "prompt_queued"
    text: str


class MessageAppended(_Msg):
    """A message joined the conversation (user prompt, finished assistant reply, tool results)."""

    type: Literal["message_appended"] = "message_appended"
    message: Message


class TextDelta(_Msg):
    """A fragment of the assistant's reply text."""

    type: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDelta(_Msg):
    """A fragment of the assistant's visible reasoning."""

    type: Literal["thinking_delta"] = "thinking_delta"
    text: str


class ToolCallStarted(_Msg):
    """The model began a tool call; arguments follow as deltas."""

    type: Literal["tool_call_started"] = "tool_call_started"
    call_id: str
    name: str


class ToolCallArgumentsDelta(_Msg):
    """A fragment of a tool call's JSON arguments, as streamed by the model."""

    type: Literal["tool_call_arguments_delta"] = "tool_call_arguments_delta"
    call_id: str
    fragment: str


class ApprovalRequest(_Msg):
    """What the user needs in order to decide on a tool call.

    ``preview`` is the command or the unified diff; ``reason`` names the rule or mode that made it
    ask; ``scopes`` lists the answers on offer and ``suggested_pattern`` the pattern an "always"
    answer would save.
    """

    tool: str
    summary: str
    preview: str
    preview_kind: Literal["command", "diff", "text"] = "text"
    cwd: str
    reason: str
    scopes: tuple[ApprovalScope, ...] = ("once", "session", "project")
    suggested_pattern: str | None = None
    allow_hint: str | None = None
    """How the call could run without asking (a mode, a rule), for a front-end nobody answers."""


class ToolCallAwaitingApproval(_Msg):
    """The call waits for an ``AnswerApproval`` operation."""

    type: Literal["tool_call_awaiting_approval"] = "tool_call_awaiting_approval"
    call_id: str
    name: str
    input: dict[str, Any]
    request: ApprovalRequest


class ToolCallOutput(_Msg):
    """Live output of a running call (shell stdout/stderr), for display only."""

    type: Literal["tool_call_output"] = "tool_call_output"
    call_id: str
    stream: Literal["stdout", "stderr"] = "stdout"
    chunk: str


class ToolDisplay(_Msg):
    """How a front-end should show a finished call, beside the text the model gets."""

    kind: Literal["text", "diff", "shell", "listing", "todo"] = "text"
    diff: str | None = None
    exit_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None
    items: tuple[str, ...] = ()


class ToolCallFinished(_Msg):
    """A call ended; ``result`` is exactly what the model receives."""

    type: Literal["tool_call_finished"] = "tool_call_finished"
    call_id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    result: str
    is_error: bool = False
    denied: bool = False
    display: ToolDisplay | None = None
    duration_s: float = 0.0


class UsageUpdated(_Msg):
    """Token usage of one request, with the running totals of the session."""

    type: Literal["usage_updated"] = "usage_updated"
    usage: Usage
    session_usage: Usage
    cost_usd: float = 0.0
    session_cost_usd: float = 0.0
    context_tokens: int = 0
    context_window: int = 0


class RetryScheduled(_Msg):
    """The provider failed in a retryable way before anything streamed; another attempt follows."""

    type: Literal["retry_scheduled"] = "retry_scheduled"
    attempt: int
    delay_s: float
    reason: str


class SensorReading(_Msg):
    """A harness sensor's reading against the setpoint it serves."""

    type: Literal["sensor_reading"] = "sensor_reading"
    sensor: str
    setpoint: str
    status: Literal["met", "unmet", "running", "stale", "unknown", "error"]
    met: bool | None = None
    value: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    detail: str = ""


class ControllerDecision(_Msg):
    """A decision of the harness controller, with the rules that fired and why."""

    type: Literal["controller_decision"] = "controller_decision"
    mode: Literal["continue", "verify", "recover", "compact", "ask_human", "stop", "idle"]
    rules: tuple[str, ...] = ()
    rationale: str = ""
    stop_reason: (
        Literal[
            "completed",
            "needs_user",
            "blocked_by_policy",
            "budget_exceeded",
            "no_progress",
            "cancelled",
            "error",
        ]
        | None
    ) = None
    feedback: str | None = None
    gate_tools: tuple[str, ...] | None = None
    """The only tools the agent may use until the next decision; ``None``: no restriction."""
    gate_mode: ApprovalMode | None = None
    """The approval mode is at most this permissive until the next decision."""
    max_output_tokens: int | None = None
    """Output cap for the agent's next requests."""
    compact: bool = False
    """The controller asked for the context to be compacted."""
    run_checks: tuple[str, ...] = ()
    """Checks the controller runs before deciding again (verify)."""


class HarnessToggled(_Msg):
    """The harness loop was turned on or off."""

    type: Literal["harness_toggled"] = "harness_toggled"
    enabled: bool


class ContextCompacted(_Msg):
    """Older messages were replaced by a summary in the model's context (the log keeps them all).

    On replay, the first ``replaced`` messages of the conversation become ``summary``.
    """

    type: Literal["context_compacted"] = "context_compacted"
    summary: Message
    replaced: int
    tokens_before: int = 0
    tokens_after: int = 0
    fallback: bool = False


class FilesRestored(_Msg):
    """Undo or rewind restored files from a checkpoint."""

    type: Literal["files_restored"] = "files_restored"
    paths: tuple[str, ...]
    checkpoint: str


class ModelChanged(_Msg):
    """Provider or model changed for the following requests."""

    type: Literal["model_changed"] = "model_changed"
    provider: str
    model: str


class ModeChanged(_Msg):
    """The approval mode changed."""

    type: Literal["mode_changed"] = "mode_changed"
    mode: ApprovalMode


class ReasoningChanged(_Msg):
    """The reasoning effort changed for the following requests.

    ``applies`` is false when the model in use does not reason: the effort is kept for a model
    that does. ``reason`` says why it changed (the ``SetReasoning`` operation's reason).
    """

    type: Literal["reasoning_changed"] = "reasoning_changed"
    effort: ReasoningEffort
    applies: bool = True
    reason: str | None = None


class TurnFinished(_Msg):
    """The task ended; ``stop_reason`` says why."""

    type: Literal["turn_finished"] = "turn_finished"
    turn_id: str
    stop_reason: StopReason
    usage: Usage = Usage()
    cost_usd: float = 0.0
    steps: int = 0
    duration_s: float = 0.0


class ErrorEvent(_Msg):
    """An error the user should see: one line, a hint, and the error class's name."""

    type: Literal["error"] = "error"
    kind: str
    message: str
    hint: str | None = None


class Warning(_Msg):  # noqa: A001 - the protocol's name for the event; shadowing is local
    """Something the user should know that did not stop the work."""

    type: Literal["warning"] = "warning"
    message: str


class SessionSaved(_Msg):
    """The log was fsynced up to this event."""

    type: Literal["session_saved"] = "session_saved"
    path: str


EventMsg = Annotated[
    TurnStarted
    | PromptQueued
    | MessageAppended
    | TextDelta
    | ThinkingDelta
    | ToolCallStarted
    | ToolCallArgumentsDelta
    | ToolCallAwaitingApproval
    | ToolCallOutput
    | ToolCallFinished
    | UsageUpdated
    | RetryScheduled
    | SensorReading
    | ControllerDecision
    | HarnessToggled
    | ContextCompacted
    | FilesRestored
    | ModelChanged
    | ModeChanged
    | ReasoningChanged
    | TurnFinished
    | ErrorEvent
    | Warning
    | SessionSaved,
    Field(discriminator="type"),
]


class Event(BaseModel):
    """The envelope of every event: who, in what order, when, and the payload."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    v: int = SCHEMA_VERSION
    session_id: str
    seq: int = Field(ge=0)
    ts: AwareDatetime
    parent_call_id: str | None = None
    msg: EventMsg

    def to_json(self) -> str:
        """Return exactly ``model_dump_json()``, built with the payload's own serializer.

        ``Event``'s serializer holds one for every payload type of the union, and pydantic builds
        all of them the first time it is needed: a few milliseconds of every ``arcan exec`` for
        types the run never sends. The payload's serializer exists already (building the payload
        validated it), and ``pydantic_core.to_json`` writes the envelope's scalars as the model
        would; a property test holds the two outputs equal.

        Raises:
            PydanticSerializationError: a string holds a lone surrogate (as ``model_dump_json``).
        """
        parent = "null" if self.parent_call_id is None else to_json(self.parent_call_id).decode()
        return (
            f'{{"v":{self.v},"session_id":{to_json(self.session_id).decode()},'
            f'"seq":{self.seq},"ts":{to_json(self.ts).decode()},"parent_call_id":{parent},'
            f'"msg":{self.msg.model_dump_json()}}}'
        )
