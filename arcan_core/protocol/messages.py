"""The conversation model: messages, content blocks, token usage and stop reasons.

These are provider-neutral. Each provider module maps them to and from its own wire format;
the session log stores them as they are here, so a session can move between providers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ContentBlock",
    "ImageBlock",
    "Message",
    "Role",
    "StopReason",
    "TextBlock",
    "ThinkingBlock",
    "ToolResultBlock",
    "ToolUseBlock",
    "Usage",
]


class _Frozen(BaseModel):
    # defer_build: the validator and serializer are built on first use, not at import. A run
    # uses a handful of these types; building all of them cost every start-up ~10 ms.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class TextBlock(_Frozen):
    """Plain text written by the user or the model."""

    type: Literal["text"] = "text"
    text: str


class ThinkingBlock(_Frozen):
    """The model's visible reasoning.

    ``signature`` is the provider's opaque proof that the thinking is unaltered; Anthropic requires
    it to be sent back unchanged on the next request. ``redacted`` holds encrypted thinking that
    must be returned as is (Anthropic ``redacted_thinking``, OpenAI encrypted reasoning).
    """

    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str | None = None
    redacted: str | None = None


class ToolUseBlock(_Frozen):
    """A tool call made by the model. ``input`` is the parsed JSON arguments object."""

    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]


class ImageBlock(_Frozen):
    """An image given to the model, base64-encoded."""

    type: Literal["image"] = "image"
    media_type: str
    data: str


class ToolResultBlock(_Frozen):
    """The result of one tool call, paired with its call by ``tool_use_id``."""

    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str
    is_error: bool = False
    images: tuple[ImageBlock, ...] = ()


ContentBlock = Annotated[
    TextBlock | ThinkingBlock | ToolUseBlock | ToolResultBlock | ImageBlock,
    Field(discriminator="type"),
]

Role = Literal["user", "assistant"]


class Message(_Frozen):
    """One turn of the conversation.

    ``incomplete`` marks an assistant message cut short (interrupt, stream failure): its text is
    kept, and the model is told on the next request that it was cut.
    """

    role: Role
    content: tuple[ContentBlock, ...]
    incomplete: bool = False

    def text(self) -> str:
        """Return the concatenated text blocks."""
        return "".join(block.text for block in self.content if isinstance(block, TextBlock))

    def tool_uses(self) -> tuple[ToolUseBlock, ...]:
        """Return the tool calls in this message, in order."""
        return tuple(block for block in self.content if isinstance(block, ToolUseBlock))


StopReason = Literal[
    "end_turn",  # the model finished
    "tool_use",  # the model wants tool results
    "max_tokens",  # the output limit cut the reply
    "stop_sequence",
    "refusal",
    "interrupted",  # the user interrupted
    "error",  # the provider failed
]


class Usage(_Frozen):
    """Token counts of one request, or a sum of several."""

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )

    @property
    def context_tokens(self) -> int:
        """Tokens the request occupied in the context window (input, cached or not)."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
