"""Anthropic Messages API, streaming (``POST /v1/messages`` with ``stream: true``).

Request mapping: the system prompt, the tool list and the last two user turns carry
``cache_control`` breakpoints (four in all, the API's limit), so a long conversation is read from
the prompt cache at each step. Thinking blocks go back exactly as they came: ``thinking`` with its
``signature``, ``redacted_thinking`` with its opaque ``data``. Thinking that has no Anthropic
signature (from another provider, or the scripted demo) is dropped, since the API would reject it.

Stream mapping: ``text_delta`` -> ``TextChunk``; ``thinking_delta`` -> ``ThinkingChunk(text)``,
``signature_delta`` -> ``ThinkingChunk(signature)`` (closes the thinking block);
``redacted_thinking`` -> ``ThinkingChunk(redacted)``; ``tool_use`` + ``input_json_delta`` ->
``ToolCallBegin`` / ``ToolCallChunk`` / ``ToolCallEnd``; usage from ``message_start`` and
``message_delta`` -> ``UsageReport``; ``message_stop`` -> ``StreamEnd``. A mid-stream ``error``
event (``overloaded_error``...) raises the matching typed error.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from arcan_core.protocol.messages import (
    ImageBlock,
    Message,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from arcan_core.providers.base import (
    ProviderRequest,
    StreamEnd,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    UsageReport,
)
from arcan_core.providers.http import (
    ErrorContext,
    HttpProvider,
    error_from_body,
    parse_json,
    truncated,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from arcan_core.providers.sse import SSEEvent

__all__ = ["ANTHROPIC_VERSION", "AnthropicProvider", "AnthropicStreamMapper", "build_body"]

ANTHROPIC_VERSION = "2023-06-01"
_CACHE = {"type": "ephemeral"}
_STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "refusal": "refusal",
    "pause_turn": "end_turn",
    "model_context_window_exceeded": "max_tokens",
}


def _image(block: ImageBlock) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": block.media_type, "data": block.data},
    }


def _tool_result(block: ToolResultBlock) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": block.tool_use_id}
    if block.images:
        parts: list[dict[str, Any]] = (
            [{"type": "text", "text": block.content}] if block.content else []
        )
        out["content"] = parts + [_image(image) for image in block.images]
    elif block.content:
        out["content"] = block.content
    if block.is_error:
        out["is_error"] = True
    return out


def _thinking(block: ThinkingBlock) -> dict[str, Any] | None:
    # OpenAI reasoning items carry their item id ("rs_...") as the signature: not ours.
    if block.signature and not block.signature.startswith("rs_"):
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if block.redacted is not None and block.signature is None:
        return {"type": "redacted_thinking", "data": block.redacted}
    return None


def _blocks(message: Message) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, ToolResultBlock):
            results.append(_tool_result(block))
        elif isinstance(block, TextBlock):
            if block.text:
                others.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            others.append(_image(block))
        elif isinstance(block, ToolUseBlock):
            others.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
        else:
            converted = _thinking(block)
            if converted is not None:
                others.append(converted)
    # The API wants tool results first in a user turn.
    return results + others


def build_body(request: ProviderRequest) -> dict[str, Any]:
    """The JSON body of a streaming Messages request."""
    messages: list[dict[str, Any]] = [
        {"role": message.role, "content": blocks}
        for message in request.messages
        if (blocks := _blocks(message))
    ]
    if request.cache:
        user_turns = [m for m in messages if m["role"] == "user"]
        for turn in user_turns[-2:]:
            last = turn["content"][-1]
            turn["content"][-1] = {**last, "cache_control": _CACHE}
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_output_tokens,
        "messages": messages,
        "stream": True,
    }
    if request.system:
        system: dict[str, Any] = {"type": "text", "text": request.system}
        if request.cache:
            system["cache_control"] = _CACHE
        body["system"] = [system]
    if request.tools:
        tools = [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in request.tools
        ]
        if request.cache:
            tools[-1]["cache_control"] = _CACHE
        body["tools"] = tools
    if request.thinking_budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
        # max_tokens counts the thinking too and must exceed the budget.
        body["max_tokens"] = max(request.max_output_tokens, request.thinking_budget + 1024)
    elif request.temperature is not None:
        body["temperature"] = request.temperature
    return body


class AnthropicStreamMapper:
    """Turns Messages SSE events into ``StreamEvent``s; one instance per response."""

    def __init__(self, ctx: ErrorContext) -> None:
        self._ctx = ctx
        self._tool_ids: dict[int, str] = {}
        self._usage: dict[str, int] = {}
        self._stop: StopReason = "end_turn"
        self.finished = False

    def feed(self, sse: SSEEvent) -> list[StreamEvent]:
        """Map one SSE event."""
        if sse.event == "ping":
            return []
        data = parse_json(sse.data, self._ctx)
        kind = data.get("type", sse.event)
        if kind == "content_block_delta":
            return self._delta(data)
        if kind == "content_block_start":
            return self._start(data)
        if kind == "content_block_stop":
            call_id = self._tool_ids.pop(data.get("index", -1), None)
            return [ToolCallEnd(call_id=call_id)] if call_id else []
        if kind == "message_start":
            return self._usage_from(data.get("message", {}).get("usage"))
        if kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            if reason:
                self._stop = _STOP_REASONS.get(reason, "end_turn")
            return self._usage_from(data.get("usage"))
        if kind == "message_stop":
            self.finished = True
            return [StreamEnd(stop_reason=self._stop)]
        if kind == "error":
            raise error_from_body(data, ctx=self._ctx)
        return []

    def close(self) -> list[StreamEvent]:
        """The body ended: fine after ``message_stop``, a cut otherwise."""
        if not self.finished:
            raise truncated(self._ctx)
        return []

    def _delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = data.get("delta", {})
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextChunk(text=delta["text"])] if delta.get("text") else []
        if kind == "input_json_delta":
            fragment = delta.get("partial_json", "")
            call_id = self._tool_ids.get(data.get("index", -1))
            return (
                [ToolCallChunk(call_id=call_id, fragment=fragment)] if fragment and call_id else []
            )
        if kind == "thinking_delta":
            return [ThinkingChunk(text=delta["thinking"])] if delta.get("thinking") else []
        if kind == "signature_delta":
            return [ThinkingChunk(signature=delta.get("signature", ""))]
        return []

    def _start(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = data.get("content_block", {})
        kind = block.get("type")
        if kind == "tool_use":
            self._tool_ids[data.get("index", -1)] = block["id"]
            return [ToolCallBegin(call_id=block["id"], name=block["name"])]
        if kind == "redacted_thinking":
            return [ThinkingChunk(redacted=block.get("data", ""))]
        if kind == "text" and block.get("text"):
            return [TextChunk(text=block["text"])]
        return []

    def _usage_from(self, raw: dict[str, Any] | None) -> list[StreamEvent]:
        if not raw:
            return []
        for key, value in raw.items():
            if isinstance(value, int):
                self._usage[key] = value
        usage = Usage(
            input_tokens=self._usage.get("input_tokens", 0),
            output_tokens=self._usage.get("output_tokens", 0),
            cache_read_tokens=self._usage.get("cache_read_input_tokens", 0),
            cache_write_tokens=self._usage.get("cache_creation_input_tokens", 0),
        )
        return [UsageReport(usage=usage)]


class AnthropicProvider(HttpProvider):
    """Claude through the Anthropic Messages API."""

    name: ClassVar[str] = "anthropic"
    label: ClassVar[str] = "Anthropic"
    default_model: ClassVar[str] = "claude-sonnet-4-5"
    api_key_env: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    base_url_env: ClassVar[str | None] = "ANTHROPIC_BASE_URL"
    default_base_url: ClassVar[str | None] = "https://api.anthropic.com"

    @property
    def _api_root(self) -> str:
        root = self.base_url
        return root.removesuffix("/v1")

    def _headers(self) -> dict[str, str]:
        return {
            "x-api-key": self.require_key(),
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "text/event-stream",
        }

    def _models_url(self) -> str:
        return f"{self._api_root}/v1/models?limit=1000"

    async def _attempt(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        mapper = AnthropicStreamMapper(self.error_context)
        url = f"{self._api_root}/v1/messages"
        async with (
            self._open(url, build_body(request)) as response,
            contextlib.aclosing(self._mapped(response, mapper)) as events,
        ):
            async for event in events:
                yield event
