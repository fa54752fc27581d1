"""OpenAI Responses API, streaming (``POST /responses`` with ``stream: true``).

Requests are stateless (``store: false``): the whole conversation goes in ``input`` each step.
For reasoning models the request asks for ``reasoning.encrypted_content``; a reasoning item comes
back as a thinking block whose ``thinking`` is the summary, whose ``signature`` is the item id
(``rs_...``) and whose ``redacted`` is the encrypted content, and it is sent back as the same
reasoning item on the next request, so the model keeps its chain of thought across tool calls.

Stream mapping: ``response.output_text.delta`` -> ``TextChunk``;
``response.reasoning_summary_text.delta`` -> ``ThinkingChunk(text)``; the reasoning item's
``output_item.done`` -> ``ThinkingChunk(signature=id, redacted=encrypted)``; a
``function_call`` item -> ``ToolCallBegin``, its ``function_call_arguments.delta`` ->
``ToolCallChunk``, its ``output_item.done`` -> ``ToolCallEnd``; ``response.completed`` /
``response.incomplete`` -> ``UsageReport`` + ``StreamEnd``; ``error`` / ``response.failed`` raise
the typed error.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

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
from arcan_core.providers.models import model_info

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from arcan_core.providers.sse import SSEEvent

__all__ = [
    "OpenAIResponsesProvider",
    "ResponsesStreamMapper",
    "build_responses_body",
    "responses_input",
]

_INCOMPLETE: dict[str, StopReason] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "refusal",
}


def _image(block: ImageBlock) -> dict[str, Any]:
    return {"type": "input_image", "image_url": f"data:{block.media_type};base64,{block.data}"}


def _user_items(message: Message) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, ToolResultBlock):
            output = f"Error: {block.content}" if block.is_error else block.content
            items.append(
                {"type": "function_call_output", "call_id": block.tool_use_id, "output": output}
            )
            parts.extend(_image(image) for image in block.images)
        elif isinstance(block, TextBlock):
            if block.text:
                parts.append({"type": "input_text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image(block))
    if parts:
        items.append({"role": "user", "content": parts})
    return items


def _reasoning_item(block: ThinkingBlock) -> dict[str, Any] | None:
    # Only our own reasoning items can go back: an id and the encrypted content are required.
    if not (block.signature and block.signature.startswith("rs_") and block.redacted):
        return None
    summary = [{"type": "summary_text", "text": block.thinking}] if block.thinking else []
    return {
        "type": "reasoning",
        "id": block.signature,
        "summary": summary,
        "encrypted_content": block.redacted,
    }


def _assistant_items(message: Message) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            if block.text:
                items.append({"role": "assistant", "content": block.text})
        elif isinstance(block, ToolUseBlock):
            items.append(
                {
                    "type": "function_call",
                    "call_id": block.id,
                    "name": block.name,
                    "arguments": json.dumps(block.input),
                }
            )
        elif isinstance(block, ThinkingBlock):
            item = _reasoning_item(block)
            if item is not None:
                items.append(item)
    return items


def responses_input(request: ProviderRequest) -> list[dict[str, Any]]:
    """The ``input`` array: messages, function calls, their outputs and reasoning items."""
    items: list[dict[str, Any]] = []
    for message in request.messages:
        convert = _user_items if message.role == "user" else _assistant_items
        items.extend(convert(message))
    return items


def build_responses_body(request: ProviderRequest, *, reasoning: bool) -> dict[str, Any]:
    """The JSON body of a streaming Responses request (``reasoning``: the model reasons)."""
    body: dict[str, Any] = {
        "model": request.model,
        "input": responses_input(request),
        "stream": True,
        "store": False,
        "max_output_tokens": request.max_output_tokens,
    }
    if request.system:
        body["instructions"] = request.system
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.input_schema,
                "strict": False,
            }
            for tool in request.tools
        ]
    if reasoning or request.reasoning_effort is not None:
        settings: dict[str, Any] = {"summary": "auto"}
        if request.reasoning_effort is not None:
            settings["effort"] = request.reasoning_effort
        body["reasoning"] = settings
        body["include"] = ["reasoning.encrypted_content"]
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


_Handler: TypeAlias = "Callable[[ResponsesStreamMapper, dict[str, Any]], list[StreamEvent]]"


class ResponsesStreamMapper:
    """Turns Responses stream events into ``StreamEvent``s; one instance per response."""

    def __init__(self, ctx: ErrorContext) -> None:
        self._ctx = ctx
        self._calls: dict[str, str] = {}
        """Function-call item id -> call id."""
        self._argued: set[str] = set()
        self._made_calls = False
        self.finished = False

    def feed(self, sse: SSEEvent) -> list[StreamEvent]:
        """Map one SSE event; event types this mapper does not use map to nothing."""
        data = parse_json(sse.data, self._ctx)
        handler = self._handlers.get(data.get("type", sse.event))
        return handler(self, data) if handler else []

    def close(self) -> list[StreamEvent]:
        """The body ended: fine after ``response.completed``, a cut otherwise."""
        if not self.finished:
            raise truncated(self._ctx)
        return []

    def _text(self, data: dict[str, Any]) -> list[StreamEvent]:
        return [TextChunk(text=data["delta"])] if data.get("delta") else []

    def _thinking(self, data: dict[str, Any]) -> list[StreamEvent]:
        return [ThinkingChunk(text=data["delta"])] if data.get("delta") else []

    def _summary_part(self, data: dict[str, Any]) -> list[StreamEvent]:
        # Summary parts are paragraphs; separate the second and later ones.
        return [ThinkingChunk(text="\n\n")] if data.get("summary_index", 0) > 0 else []

    def _arguments_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        return self._arguments(data.get("item_id", ""), data.get("delta", ""))

    def _arguments_done(self, data: dict[str, Any]) -> list[StreamEvent]:
        item_id = data.get("item_id", "")
        if item_id in self._argued:
            return []
        return self._arguments(item_id, data.get("arguments", ""))

    def _added(self, data: dict[str, Any]) -> list[StreamEvent]:
        return self._item_added(data.get("item") or {})

    def _done(self, data: dict[str, Any]) -> list[StreamEvent]:
        return self._item_done(data.get("item") or {})

    def _complete(self, data: dict[str, Any]) -> list[StreamEvent]:
        return self._completed(data.get("response") or {})

    def _failed(self, data: dict[str, Any]) -> list[StreamEvent]:
        failure = (data.get("response") or {}).get("error") or {}
        raise error_from_body({"error": failure}, ctx=self._ctx)

    def _error(self, data: dict[str, Any]) -> list[StreamEvent]:
        raise error_from_body({"error": data}, ctx=self._ctx)

    _handlers: ClassVar[
        dict[str, Callable[[ResponsesStreamMapper, dict[str, Any]], list[StreamEvent]]]
    ] = {
        "response.output_text.delta": _text,
        "response.refusal.delta": _text,
        "response.reasoning_summary_text.delta": _thinking,
        "response.reasoning_summary_part.added": _summary_part,
        "response.function_call_arguments.delta": _arguments_delta,
        "response.function_call_arguments.done": _arguments_done,
        "response.output_item.added": _added,
        "response.output_item.done": _done,
        "response.completed": _complete,
        "response.incomplete": _complete,
        "response.failed": _failed,
        "error": _error,
    }

    def _arguments(self, item_id: str, fragment: str) -> list[StreamEvent]:
        call_id = self._calls.get(item_id)
        if not (fragment and call_id):
            return []
        self._argued.add(item_id)
        return [ToolCallChunk(call_id=call_id, fragment=fragment)]

    def _item_added(self, item: dict[str, Any]) -> list[StreamEvent]:
        if item.get("type") != "function_call":
            return []
        call_id = item.get("call_id") or item.get("id", "")
        self._calls[item.get("id", call_id)] = call_id
        self._made_calls = True
        return [ToolCallBegin(call_id=call_id, name=item.get("name", ""))]

    def _item_done(self, item: dict[str, Any]) -> list[StreamEvent]:
        kind = item.get("type")
        if kind == "function_call":
            item_id = item.get("id", "")
            call_id = self._calls.get(item_id)
            if call_id is None:
                return []
            events: list[StreamEvent] = []
            if item_id not in self._argued and item.get("arguments"):
                events += self._arguments(item_id, item["arguments"])
            events.append(ToolCallEnd(call_id=call_id))
            return events
        if kind == "reasoning":
            return [ThinkingChunk(signature=item.get("id"), redacted=item.get("encrypted_content"))]
        return []

    def _completed(self, response: dict[str, Any]) -> list[StreamEvent]:
        self.finished = True
        events: list[StreamEvent] = []
        raw = response.get("usage")
        if raw:
            cached = int((raw.get("input_tokens_details") or {}).get("cached_tokens") or 0)
            usage = Usage(
                input_tokens=max(0, int(raw.get("input_tokens") or 0) - cached),
                output_tokens=int(raw.get("output_tokens") or 0),
                cache_read_tokens=cached,
            )
            events.append(UsageReport(usage=usage))
        reason = (response.get("incomplete_details") or {}).get("reason")
        stop: StopReason
        if reason:
            stop = _INCOMPLETE.get(reason, "max_tokens")
        else:
            stop = "tool_use" if self._made_calls else "end_turn"
        events.append(StreamEnd(stop_reason=stop))
        return events


class OpenAIResponsesProvider(HttpProvider):
    """OpenAI through the Responses API (the ``openai`` provider)."""

    name: ClassVar[str] = "openai"
    label: ClassVar[str] = "OpenAI"
    default_model: ClassVar[str] = "gpt-5"
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    base_url_env: ClassVar[str | None] = "OPENAI_BASE_URL"
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"

    def _headers(self) -> dict[str, str]:
        return {
            "authorization": f"Bearer {self.require_key()}",
            "content-type": "application/json",
            "accept": "text/event-stream",
        }

    async def _attempt(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        reasoning = model_info(self.name, request.model).supports_thinking
        body = build_responses_body(request, reasoning=reasoning)
        mapper = ResponsesStreamMapper(self.error_context)
        async with (
            self._open(f"{self.base_url}/responses", body) as response,
            contextlib.aclosing(self._mapped(response, mapper)) as events,
        ):
            async for event in events:
                yield event
