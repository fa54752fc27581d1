"""Fold a provider's stream events into the assistant ``Message`` they describe.

The contract of the stream, which every provider keeps:

- ``TextChunk``s append to the current text block.
- ``ThinkingChunk(text)``s append to the current thinking block; a chunk carrying ``signature``
  and/or ``redacted`` closes it (a chunk with only ``redacted`` is a whole redacted block).
- ``ToolCallBegin`` opens a call, ``ToolCallChunk``s append JSON text to its arguments,
  ``ToolCallEnd`` closes it.
- ``UsageReport``s are cumulative (the last wins); ``StreamEnd`` gives the stop reason;
  ``RetryNotice``s only inform.

The agent core may use this directly; the provider tests use it to compare whole replies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arcan_core.protocol.messages import (
    ContentBlock,
    Message,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
)
from arcan_core.providers.base import (
    RetryNotice,
    StreamEnd,
    TextChunk,
    ThinkingChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    UsageReport,
)

if TYPE_CHECKING:
    from arcan_core.providers.base import StreamEvent

__all__ = ["AssembledCall", "ReplyAssembler"]


@dataclass
class AssembledCall:
    """A tool call as streamed: ``arguments`` is the raw JSON text."""

    call_id: str
    name: str
    arguments: str = ""
    complete: bool = False

    def parsed(self) -> dict[str, Any] | None:
        """The arguments as a JSON object, or ``None`` if they are not one."""
        try:
            value = json.loads(self.arguments or "{}")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


@dataclass
class ReplyAssembler:
    """Accumulates one model step."""

    usage: Usage = field(default_factory=Usage)
    stop_reason: StopReason | None = None
    retries: list[RetryNotice] = field(default_factory=list)
    _blocks: list[ContentBlock | AssembledCall] = field(default_factory=list)
    _text: list[str] = field(default_factory=list)
    _thinking: list[str] = field(default_factory=list)
    _calls: dict[str, AssembledCall] = field(default_factory=dict)

    def feed(self, event: StreamEvent) -> None:
        """Take one event."""
        if isinstance(event, TextChunk):
            self._flush_thinking()
            self._text.append(event.text)
        elif isinstance(event, ThinkingChunk):
            self._thinking_chunk(event)
        elif isinstance(event, ToolCallBegin):
            self._flush()
            call = AssembledCall(event.call_id, event.name)
            self._calls[event.call_id] = call
            self._blocks.append(call)
        elif isinstance(event, ToolCallChunk):
            self._calls[event.call_id].arguments += event.fragment
        elif isinstance(event, ToolCallEnd):
            self._calls[event.call_id].complete = True
        elif isinstance(event, UsageReport):
            self.usage = event.usage
        elif isinstance(event, StreamEnd):
            self.stop_reason = event.stop_reason
        else:
            self.retries.append(event)

    def _thinking_chunk(self, event: ThinkingChunk) -> None:
        self._flush_text()
        self._thinking.append(event.text)
        if event.signature is not None or event.redacted is not None:
            self._blocks.append(
                ThinkingBlock(
                    thinking="".join(self._thinking),
                    signature=event.signature,
                    redacted=event.redacted,
                )
            )
            self._thinking = []

    def _flush_text(self) -> None:
        if self._text:
            self._blocks.append(TextBlock(text="".join(self._text)))
            self._text = []

    def _flush_thinking(self) -> None:
        if any(self._thinking):
            self._blocks.append(ThinkingBlock(thinking="".join(self._thinking)))
        self._thinking = []

    def _flush(self) -> None:
        self._flush_text()
        self._flush_thinking()

    @property
    def text(self) -> str:
        """All reply text so far."""
        done = "".join(b.text for b in self._blocks if isinstance(b, TextBlock))
        return done + "".join(self._text)

    @property
    def tool_calls(self) -> list[AssembledCall]:
        """The tool calls so far, in order."""
        return list(self._calls.values())

    def message(self, *, incomplete: bool = False) -> Message:
        """The assistant message; tool calls whose arguments are not a JSON object get ``{}``.

        With ``incomplete`` (the stream broke), unfinished tool calls are left out.
        """
        self._flush()
        content: list[ContentBlock] = []
        for block in self._blocks:
            if isinstance(block, AssembledCall):
                if incomplete and not block.complete:
                    continue
                content.append(
                    ToolUseBlock(id=block.call_id, name=block.name, input=block.parsed() or {})
                )
            else:
                content.append(block)
        return Message(role="assistant", content=tuple(content), incomplete=incomplete)
