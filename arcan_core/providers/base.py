"""The abstract provider: one streaming interface over every model API.

A provider turns a ``ProviderRequest`` (conversation, system prompt, tool specs, settings) into an
async stream of ``StreamEvent``s. Providers know nothing of tools' behaviour, sessions or UIs.

Cancelling the task that iterates ``stream()`` must close the HTTP response at once: providers
stream inside ``async with`` blocks so cancellation unwinds them.

Failures are raised as ``arcan_core.errors.ProviderError`` subclasses. Retries happen inside the
provider, only before anything was yielded, and each attempt is announced with ``RetryNotice``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.protocol.messages import Message, StopReason, Usage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = [
    "ModelInfo",
    "Provider",
    "ProviderRequest",
    "ProviderSettings",
    "RetryNotice",
    "StreamEnd",
    "StreamEvent",
    "TextChunk",
    "ThinkingChunk",
    "ToolCallBegin",
    "ToolCallChunk",
    "ToolCallEnd",
    "ToolSpec",
    "UsageReport",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolSpec(_Frozen):
    """A tool as the model sees it: name, description and JSON Schema of its input object."""

    name: str
    description: str
    input_schema: dict[str, Any]


class ProviderRequest(_Frozen):
    """Everything one model step needs."""

    model: str
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_output_tokens: int = 8192
    temperature: float | None = None
    thinking_budget: int | None = None
    """Extended thinking budget in tokens (Anthropic) or ``None`` for off."""
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    """Reasoning effort (OpenAI) or ``None`` for the model's default."""
    cache: bool = True
    """Ask for prompt caching where the API supports it."""


class ProviderSettings(_Frozen):
    """How to reach a provider: resolved from config, environment and flags."""

    name: str
    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0
    """Longest silence tolerated between two chunks of a stream."""
    max_retries: int = 4
    read_batch_s: float = 0.0
    """Read a streamed reply's socket at most this often (0: as bytes arrive). For a front-end
    that shows no deltas (``arcan exec``): fewer wake-ups, the same reply, a little later."""
    script_path: str | None = None
    """For the scripted provider: the transcript to replay (``None``: the built-in demo)."""


class TextChunk(_Frozen):
    """A fragment of reply text."""

    kind: Literal["text"] = "text"
    text: str


class ThinkingChunk(_Frozen):
    """A fragment of thinking, or the end of a thinking block.

    ``text`` appends to the current thinking block. A chunk carrying ``signature`` and/or
    ``redacted`` closes the block with both: Anthropic sends the signature last; its
    ``redacted_thinking`` is a chunk with only ``redacted``; an OpenAI reasoning item ends with
    ``signature`` = the item id and ``redacted`` = its encrypted content. See ``assemble.py``.
    """

    kind: Literal["thinking"] = "thinking"
    text: str = ""
    signature: str | None = None
    redacted: str | None = None


class ToolCallBegin(_Frozen):
    """The model starts a tool call."""

    kind: Literal["tool_call_begin"] = "tool_call_begin"
    call_id: str
    name: str


class ToolCallChunk(_Frozen):
    """A fragment of a tool call's JSON arguments."""

    kind: Literal["tool_call_chunk"] = "tool_call_chunk"
    call_id: str
    fragment: str


class ToolCallEnd(_Frozen):
    """A tool call's arguments are complete."""

    kind: Literal["tool_call_end"] = "tool_call_end"
    call_id: str


class UsageReport(_Frozen):
    """Token usage so far for this request (cumulative, the last one wins)."""

    kind: Literal["usage"] = "usage"
    usage: Usage


class RetryNotice(_Frozen):
    """A retryable failure before any output; the next attempt starts after ``delay_s``."""

    kind: Literal["retry"] = "retry"
    attempt: int
    delay_s: float
    reason: str


class StreamEnd(_Frozen):
    """The step ended normally."""

    kind: Literal["end"] = "end"
    stop_reason: StopReason


StreamEvent = Annotated[
    TextChunk
    | ThinkingChunk
    | ToolCallBegin
    | ToolCallChunk
    | ToolCallEnd
    | UsageReport
    | RetryNotice
    | StreamEnd,
    Field(discriminator="kind"),
]


class ModelInfo(_Frozen):
    """A model's limits and prices (USD per million tokens)."""

    id: str
    provider: str
    context_window: int = 128_000
    max_output_tokens: int = 8192
    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    cache_read_per_mtok: float = 0.0
    cache_write_per_mtok: float = 0.0
    supports_images: bool = False
    supports_thinking: bool = False

    def cost_usd(self, usage: Usage) -> float:
        """Price of ``usage`` on this model."""
        return (
            usage.input_tokens * self.input_per_mtok
            + usage.output_tokens * self.output_per_mtok
            + usage.cache_read_tokens * self.cache_read_per_mtok
            + usage.cache_write_tokens * self.cache_write_per_mtok
        ) / 1_000_000


class Provider(ABC):
    """A model API. Subclasses register under the ``arcan.providers`` entry-point group."""

    name: ClassVar[str]
    """The name used by ``--provider`` and ``provider =`` in config."""

    default_model: ClassVar[str]
    """The model used when none is configured."""

    api_key_env: ClassVar[str | None] = None
    """Environment variable holding the API key (``None``: the provider needs no key)."""

    base_url_env: ClassVar[str | None] = None
    """Environment variable that overrides the endpoint."""

    default_base_url: ClassVar[str | None] = None
    """The endpoint used when neither config nor environment names one."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings

    @abstractmethod
    def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        """Stream one model step. Raise ``ProviderError`` subclasses on failure."""

    @abstractmethod
    async def list_models(self) -> list[str]:
        """Return the model ids the endpoint offers (``GET /v1/models`` or equivalent)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook; most providers hold one client
        """Release connections."""
