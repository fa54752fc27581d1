"""What the loopback model server can be told to answer.

A ``Reply`` is wire-neutral: the server renders it as Anthropic Messages, OpenAI Chat Completions
or OpenAI Responses events depending on the endpoint the client called. Faults (``cut_after``,
``stall_after``, ``malformed_after``, ``error``) apply to the rendered event frames, counted from
zero, so the same fault means the same thing on every wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CHAT_QUIRKS",
    "HttpError",
    "Quirk",
    "Raw",
    "Reply",
    "ScriptedItem",
    "ToolCall",
]

Quirk = Literal["no_usage", "no_ids", "whole_args", "no_done", "no_index", "stop_not_tool_calls"]
"""Chat Completions quirks of local servers (llama.cpp, Ollama, vLLM, LM Studio)."""

CHAT_QUIRKS: frozenset[Quirk] = frozenset({"no_usage", "no_ids", "whole_args", "no_done"})
"""The common bundle: no usage chunk, no tool call ids, arguments whole, no ``[DONE]``."""


@dataclass(frozen=True)
class ToolCall:
    """A tool call in a reply; ``id`` is made up when ``None``."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One streamed model reply, with optional injected faults.

    Attributes:
        text: the reply text, streamed in pieces of ``chunk_chars`` characters.
        thinking: visible thinking (Anthropic thinking block, Responses reasoning summary,
            ``reasoning_content`` on Chat Completions).
        signature: Anthropic's thinking signature.
        redacted: Anthropic ``redacted_thinking`` data, or the Responses ``encrypted_content``.
        tool_calls: tool calls after the text.
        stop_reason: the neutral stop reason (``end_turn``, ``tool_use``, ``max_tokens``,
            ``refusal``); derived from ``tool_calls`` when ``None``.
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens: usage to report.
        error: ``(type, message)`` of an error event sent after the content, in place of the
            normal end (Anthropic ``overloaded_error``, OpenAI ``server_error``...).
        cut_after: close the connection after this many frames (no clean end).
        stall_after: send this many frames, then go silent until the client hangs up.
        malformed_after: send a frame of broken JSON at this index.
        frame_delay_s: wait between frames.
        quirks: Chat Completions quirks (see ``Quirk``).
        headers: extra response headers.
    """

    text: str = ""
    thinking: str = ""
    signature: str = "sig-loopback"
    redacted: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str | None = None
    input_tokens: int = 10
    output_tokens: int = 5
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    chunk_chars: int = 8
    error: tuple[str, str] | None = None
    cut_after: int | None = None
    stall_after: int | None = None
    malformed_after: int | None = None
    frame_delay_s: float = 0.0
    quirks: frozenset[Quirk] = frozenset()
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def neutral_stop(self) -> str:
        """The stop reason to send."""
        if self.stop_reason:
            return self.stop_reason
        return "tool_use" if self.tool_calls else "end_turn"


@dataclass(frozen=True)
class HttpError:
    """An HTTP error answer, its body shaped like the API the client called."""

    status: int
    type: str = "api_error"
    message: str = "loopback error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Raw:
    """Exact bytes: each frame is one HTTP chunk, sent ``frame_delay_s`` apart."""

    frames: tuple[bytes, ...]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    frame_delay_s: float = 0.0
    cut_after: int | None = None
    stall_after: int | None = None


ScriptedItem = Reply | HttpError | Raw
