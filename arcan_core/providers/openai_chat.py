"""OpenAI Chat Completions, streaming (``POST /chat/completions`` with ``stream: true``).

Also the wire of every OpenAI-compatible local server (see ``local.py``), so the mapper is lenient
where those servers differ: a tool call without an id gets one made up; a call without an
``index`` continues the last call unless it brings a new id; arguments may arrive whole in one
delta; usage may never come; the stream may end without ``data: [DONE]`` once a
``finish_reason`` was seen; ``reasoning_content`` (or ``reasoning``) deltas are thinking.

Tool calls are announced by ``index`` in the deltas, several in parallel; each one ends
(``ToolCallEnd``) when the choice finishes. If any tool call was made the stop reason is
``tool_use`` even when the server says ``stop`` (Ollama does).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from arcan_core.protocol.messages import (
    ImageBlock,
    Message,
    StopReason,
    TextBlock,
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

__all__ = ["ChatStreamMapper", "OpenAIChatProvider", "build_chat_body", "chat_messages"]

_FINISH: dict[str, StopReason] = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}


def _image_part(block: ImageBlock) -> dict[str, Any]:
    return {
        "type": "image_url",
        "image_url": {"url": f"data:{block.media_type};base64,{block.data}"},
    }


def _user_messages(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, ToolResultBlock):
            content = f"Error: {block.content}" if block.is_error else block.content
            out.append({"role": "tool", "tool_call_id": block.tool_use_id, "content": content})
            # A tool message holds text only; its images follow in a user message.
            parts.extend(_image_part(image) for image in block.images)
        elif isinstance(block, TextBlock):
            if block.text:
                parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
    if parts:
        only_text = all(part["type"] == "text" for part in parts)
        merged: str | list[dict[str, Any]] = (
            "\n\n".join(part["text"] for part in parts) if only_text else parts
        )
        out.append({"role": "user", "content": merged})
    return out


def _assistant_message(message: Message) -> dict[str, Any] | None:
    text = message.text()
    calls = [
        {
            "id": block.id,
            "type": "function",
            "function": {"name": block.name, "arguments": json.dumps(block.input)},
        }
        for block in message.content
        if isinstance(block, ToolUseBlock)
    ]
    if not text and not calls:
        return None
    out: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        out["tool_calls"] = calls
    return out


def chat_messages(request: ProviderRequest) -> list[dict[str, Any]]:
    """The ``messages`` array: system first, tool results as ``tool`` messages after their call."""
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system})
    for message in request.messages:
        if message.role == "user":
            out.extend(_user_messages(message))
        else:
            converted = _assistant_message(message)
            if converted is not None:
                out.append(converted)
    return out


def build_chat_body(request: ProviderRequest, *, max_tokens_field: str) -> dict[str, Any]:
    """The JSON body of a streaming Chat Completions request."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": chat_messages(request),
        "stream": True,
        "stream_options": {"include_usage": True},
        max_tokens_field: request.max_output_tokens,
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.input_schema,
                },
            }
            for tool in request.tools
        ]
    if request.reasoning_effort is not None:
        body["reasoning_effort"] = request.reasoning_effort
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


class ChatStreamMapper:
    """Turns Chat Completions chunks into ``StreamEvent``s; one instance per response."""

    def __init__(self, ctx: ErrorContext) -> None:
        self._ctx = ctx
        self._calls: dict[int, str] = {}
        self._open_calls: list[str] = []
        self._last_index = -1
        self._finish: str | None = None
        self.finished = False

    def feed(self, sse: SSEEvent) -> list[StreamEvent]:
        """Map one SSE event (one chunk)."""
        if self.finished:
            return []
        data_text = sse.data
        if data_text == "[DONE]":
            return self._end()
        data = parse_json(data_text, self._ctx)
        if not isinstance(data, dict):
            return []
        if data.get("error"):
            raise error_from_body(data, ctx=self._ctx)
        events: list[StreamEvent] = []
        for choice in data.get("choices") or ():
            delta = choice.get("delta") or {}
            thinking = delta.get("reasoning_content") or delta.get("reasoning")
            if thinking:
                events.append(ThinkingChunk(text=thinking))
            if delta.get("content"):
                events.append(TextChunk(text=delta["content"]))
            for call in delta.get("tool_calls") or ():
                events.extend(self._tool_delta(call))
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
                events.extend(ToolCallEnd(call_id=call_id) for call_id in self._open_calls)
                self._open_calls = []
        usage = data.get("usage")
        if usage:
            events.append(UsageReport(usage=_usage(usage)))
        return events

    def _tool_delta(self, call: dict[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        index = call.get("index")
        if index is None:
            # No index (some local servers): a new id or a name starts a new call.
            new = (call.get("id") and call["id"] not in self._calls.values()) or (
                (call.get("function") or {}).get("name") and self._last_index >= 0
            )
            index = self._last_index + 1 if new or self._last_index < 0 else self._last_index
        self._last_index = index
        function = call.get("function") or {}
        if index not in self._calls:
            call_id = call.get("id") or f"call_{uuid.uuid4().hex[:24]}"
            self._calls[index] = call_id
            self._open_calls.append(call_id)
            events.append(ToolCallBegin(call_id=call_id, name=function.get("name") or ""))
        arguments = function.get("arguments")
        if arguments:
            events.append(ToolCallChunk(call_id=self._calls[index], fragment=arguments))
        return events

    def _end(self) -> list[StreamEvent]:
        self.finished = True
        events: list[StreamEvent] = [ToolCallEnd(call_id=c) for c in self._open_calls]
        self._open_calls = []
        stop = _FINISH.get(self._finish or "stop", "end_turn")
        if self._calls:
            stop = "tool_use"
        events.append(StreamEnd(stop_reason=stop))
        return events

    def close(self) -> list[StreamEvent]:
        """The body ended: finish if a ``finish_reason`` came (no ``[DONE]`` is a known quirk)."""
        if self.finished:
            return []
        if self._finish is None:
            raise truncated(self._ctx)
        return self._end()


def _usage(raw: dict[str, Any]) -> Usage:
    prompt = int(raw.get("prompt_tokens") or 0)
    cached = int((raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    return Usage(
        input_tokens=max(0, prompt - cached),
        output_tokens=int(raw.get("completion_tokens") or 0),
        cache_read_tokens=cached,
    )


class OpenAIChatProvider(HttpProvider):
    """OpenAI (or any compatible endpoint) through Chat Completions."""

    name: ClassVar[str] = "openai-chat"
    label: ClassVar[str] = "OpenAI"
    default_model: ClassVar[str] = "gpt-4.1"
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    base_url_env: ClassVar[str | None] = "OPENAI_BASE_URL"
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"
    max_tokens_field: ClassVar[str] = "max_completion_tokens"
    """``max_tokens`` is deprecated at OpenAI but the only one many local servers know."""

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        key = self.require_key() if self.api_key_env else self.settings.api_key
        if key:
            headers["authorization"] = f"Bearer {key}"
        return headers

    async def _model_for(self, request: ProviderRequest) -> str:
        return request.model

    async def _attempt(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        model = await self._model_for(request)
        body = build_chat_body(request, max_tokens_field=self.max_tokens_field)
        body["model"] = model
        mapper = ChatStreamMapper(self.error_context)
        async with (
            self._open(f"{self.base_url}/chat/completions", body) as response,
            contextlib.aclosing(self._mapped(response, mapper)) as events,
        ):
            async for event in events:
                yield event
