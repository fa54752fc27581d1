"""Operations: what a front-end asks of the core.

A front-end never touches core state; it sends a ``Submission`` (an id and one operation) on the
core's queue. The core answers only with events (see ``events``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.protocol.messages import ImageBlock

__all__ = [
    "AnswerApproval",
    "ApprovalDecision",
    "ApprovalMode",
    "ApprovalScope",
    "Compact",
    "Interrupt",
    "Operation",
    "ReasoningEffort",
    "Rewind",
    "SetHarness",
    "SetMode",
    "SetModel",
    "SetReasoning",
    "Shutdown",
    "Submission",
    "SubmitPrompt",
    "Undo",
]


class _Op(BaseModel):
    # defer_build: the validator and serializer are built on first use, not at import. A run
    # uses a handful of these types; building all of them cost every start-up ~10 ms.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


ApprovalMode = Literal["plan", "ask", "auto-edit", "full-auto"]
"""How much runs without asking: read-only, reads only, edits too, everything in the workspace."""

ApprovalDecision = Literal["allow", "deny"]
ApprovalScope = Literal["once", "session", "project", "pattern"]
"""How far an answer reaches: this call, this session, this project (saved), or a saved pattern."""

ReasoningEffort = Literal["off", "minimal", "low", "medium", "high"]
"""How hard the model thinks before it answers; ``off``: as little as its API allows."""


class SubmitPrompt(_Op):
    """A user prompt. Sent while a turn runs, it is queued and steers the next model step."""

    op: Literal["submit_prompt"] = "submit_prompt"
    text: str
    images: tuple[ImageBlock, ...] = ()


class Interrupt(_Op):
    """Stop the running turn at once, leaving a valid conversation."""

    op: Literal["interrupt"] = "interrupt"


class AnswerApproval(_Op):
    """The user's answer to an approval request (``ToolCallAwaitingApproval``)."""

    op: Literal["answer_approval"] = "answer_approval"
    call_id: str
    decision: ApprovalDecision
    scope: ApprovalScope = "once"
    pattern: str | None = None
    reason: str | None = None


class SetModel(_Op):
    """Switch provider and/or model for the following requests."""

    op: Literal["set_model"] = "set_model"
    model: str
    provider: str | None = None


class SetMode(_Op):
    """Change the approval mode."""

    op: Literal["set_mode"] = "set_mode"
    mode: ApprovalMode


class SetHarness(_Op):
    """Turn the harness control loop on or off for the following tasks."""

    op: Literal["set_harness"] = "set_harness"
    enabled: bool


class SetReasoning(_Op):
    """Change the reasoning effort of the following requests (the running task's next step)."""

    op: Literal["set_reasoning"] = "set_reasoning"
    effort: ReasoningEffort
    reason: str | None = None
    """Why it changes (who asked); copied into the ``ReasoningChanged`` record."""


class Compact(_Op):
    """Summarise older turns now, optionally steered by instructions."""

    op: Literal["compact"] = "compact"
    instructions: str | None = None


class Undo(_Op):
    """Restore the files the last turn changed (refused where a file changed since)."""

    op: Literal["undo"] = "undo"


class Rewind(_Op):
    """Go back to the state before the prompt of turn ``turn_id``."""

    op: Literal["rewind"] = "rewind"
    turn_id: str
    files: bool = True
    conversation: bool = True


class Shutdown(_Op):
    """Finish: flush the log, release the lock, end the core task."""

    op: Literal["shutdown"] = "shutdown"


Operation = Annotated[
    SubmitPrompt
    | Interrupt
    | AnswerApproval
    | SetModel
    | SetMode
    | SetHarness
    | SetReasoning
    | Compact
    | Undo
    | Rewind
    | Shutdown,
    Field(discriminator="op"),
]


class Submission(_Op):
    """An operation with the id the front-end gave it; events caused by it may cite the id."""

    id: str
    op: Operation
