"""Render a wire-neutral ``Reply`` as the SSE frames of each API, as their docs describe them.

Each function returns the list of frames (one SSE event each, blank line included) for one
streamed reply; ``render`` joins them into the bytes a recording of that stream would hold.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.loopback.replies import HttpError, Reply

__all__ = [
    "WIRES",
    "Wire",
    "error_body",
    "render",
    "render_anthropic",
    "render_chat",
    "render_responses",
]

Wire = Literal["anthropic", "chat", "responses"]


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []


def _sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _call_id(call_index: int, given: str | None, prefix: str) -> str:
    return given or f"{prefix}_loop_{call_index}"


def render_anthropic(reply: Reply, model: str) -> list[bytes]:
    """Anthropic Messages streaming events for ``reply``."""

    def ev(kind: str, body: dict[str, Any]) -> bytes:
        return _sse({"type": kind, **body}, kind)

    frames = [
        ev(
            "message_start",
            {
                "message": {
                    "id": "msg_loopback",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": model,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": reply.input_tokens,
                        "cache_creation_input_tokens": reply.cache_write_tokens,
                        "cache_read_input_tokens": reply.cache_read_tokens,
                        "output_tokens": 1,
                    },
                }
            },
        ),
        ev("ping", {}),
    ]
    index = 0

    def block(start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        nonlocal index
        frames.append(ev("content_block_start", {"index": index, "content_block": start}))
        frames.extend(ev("content_block_delta", {"index": index, "delta": d}) for d in deltas)
        frames.append(ev("content_block_stop", {"index": index}))
        index += 1

    if reply.thinking:
        deltas = [
            {"type": "thinking_delta", "thinking": piece}
            for piece in _pieces(reply.thinking, reply.chunk_chars)
        ]
        deltas.append({"type": "signature_delta", "signature": reply.signature})
        block({"type": "thinking", "thinking": "", "signature": ""}, deltas)
    if reply.redacted is not None:
        block({"type": "redacted_thinking", "data": reply.redacted}, [])
    if reply.text:
        block(
            {"type": "text", "text": ""},
            [{"type": "text_delta", "text": p} for p in _pieces(reply.text, reply.chunk_chars)],
        )
    for number, call in enumerate(reply.tool_calls):
        arguments = json.dumps(call.args)
        block(
            {
                "type": "tool_use",
                "id": _call_id(number, call.id, "toolu"),
                "name": call.name,
                "input": {},
            },
            [
                {"type": "input_json_delta", "partial_json": p}
                for p in ["", *_pieces(arguments, reply.chunk_chars)]
            ],
        )
    if reply.error is not None:
        kind, message = reply.error
        frames.append(ev("error", {"error": {"type": kind, "message": message}}))
        return frames
    frames.append(
        ev(
            "message_delta",
            {
                "delta": {"stop_reason": reply.neutral_stop, "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        )
    )
    frames.append(ev("message_stop", {}))
    return frames


_CHAT_FINISH = {
    "end_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
}


def render_chat(reply: Reply, model: str) -> list[bytes]:
    """OpenAI Chat Completions streaming chunks for ``reply`` (with its quirks applied)."""
    quirks = reply.quirks

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse(
            {
                "id": "chatcmpl-loopback",
                "object": "chat.completion.chunk",
                "created": 1_700_000_000,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    frames = [chunk({"role": "assistant", "content": ""})]
    frames.extend(
        chunk({"reasoning_content": p}) for p in _pieces(reply.thinking, reply.chunk_chars)
    )
    frames.extend(chunk({"content": p}) for p in _pieces(reply.text, reply.chunk_chars))
    for number, call in enumerate(reply.tool_calls):
        arguments = json.dumps(call.args)
        head: dict[str, Any] = {
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        if "no_index" not in quirks:
            head["index"] = number
        if "no_ids" not in quirks:
            head["id"] = _call_id(number, call.id, "call")
        if "whole_args" in quirks:
            head["function"]["arguments"] = arguments
            frames.append(chunk({"tool_calls": [head]}))
            continue
        frames.append(chunk({"tool_calls": [head]}))
        for piece in _pieces(arguments, reply.chunk_chars):
            fragment: dict[str, Any] = {"function": {"arguments": piece}}
            if "no_index" not in quirks:
                fragment["index"] = number
            frames.append(chunk({"tool_calls": [fragment]}))
    if reply.error is not None:
        kind, message = reply.error
        frames.append(_sse({"error": {"message": message, "type": kind, "code": kind}}))
        return frames
    finish = _CHAT_FINISH.get(reply.neutral_stop, "stop")
    if "stop_not_tool_calls" in quirks and finish == "tool_calls":
        finish = "stop"
    frames.append(chunk({}, finish))
    if "no_usage" not in quirks:
        frames.append(
            _sse(
                {
                    "id": "chatcmpl-loopback",
                    "object": "chat.completion.chunk",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": reply.input_tokens + reply.cache_read_tokens,
                        "completion_tokens": reply.output_tokens,
                        "total_tokens": reply.input_tokens
                        + reply.cache_read_tokens
                        + reply.output_tokens,
                        "prompt_tokens_details": {"cached_tokens": reply.cache_read_tokens},
                    },
                }
            )
        )
    if "no_done" not in quirks:
        frames.append(_sse("[DONE]"))
    return frames


def render_responses(reply: Reply, model: str) -> list[bytes]:  # noqa: PLR0915 - one event list
    """OpenAI Responses API streaming events for ``reply``."""
    sequence = 0

    def ev(kind: str, body: dict[str, Any]) -> bytes:
        nonlocal sequence
        frame = _sse({"type": kind, "sequence_number": sequence, **body}, kind)
        sequence += 1
        return frame

    base = {"id": "resp_loopback", "object": "response", "model": model, "output": []}
    frames = [
        ev("response.created", {"response": {**base, "status": "in_progress"}}),
        ev("response.in_progress", {"response": {**base, "status": "in_progress"}}),
    ]
    output: list[dict[str, Any]] = []
    if reply.thinking or reply.redacted is not None:
        index = len(output)
        item: dict[str, Any] = {"id": "rs_loopback", "type": "reasoning", "summary": []}
        frames.append(ev("response.output_item.added", {"output_index": index, "item": item}))
        if reply.thinking:
            where = {"item_id": "rs_loopback", "output_index": index, "summary_index": 0}
            frames.append(
                ev(
                    "response.reasoning_summary_part.added",
                    {**where, "part": {"type": "summary_text", "text": ""}},
                )
            )
            frames.extend(
                ev("response.reasoning_summary_text.delta", {**where, "delta": p})
                for p in _pieces(reply.thinking, reply.chunk_chars)
            )
            frames.append(
                ev("response.reasoning_summary_text.done", {**where, "text": reply.thinking})
            )
        done = {
            **item,
            "summary": [{"type": "summary_text", "text": reply.thinking}] if reply.thinking else [],
        }
        if reply.redacted is not None:
            done["encrypted_content"] = reply.redacted
        frames.append(ev("response.output_item.done", {"output_index": index, "item": done}))
        output.append(done)
    if reply.text:
        index = len(output)
        item = {
            "id": "msg_loopback",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        where = {"item_id": "msg_loopback", "output_index": index, "content_index": 0}
        frames.append(ev("response.output_item.added", {"output_index": index, "item": item}))
        frames.append(
            ev(
                "response.content_part.added",
                {**where, "part": {"type": "output_text", "text": "", "annotations": []}},
            )
        )
        frames.extend(
            ev("response.output_text.delta", {**where, "delta": p})
            for p in _pieces(reply.text, reply.chunk_chars)
        )
        frames.append(ev("response.output_text.done", {**where, "text": reply.text}))
        part = {"type": "output_text", "text": reply.text, "annotations": []}
        frames.append(ev("response.content_part.done", {**where, "part": part}))
        done = {**item, "status": "completed", "content": [part]}
        frames.append(ev("response.output_item.done", {"output_index": index, "item": done}))
        output.append(done)
    for number, call in enumerate(reply.tool_calls):
        index = len(output)
        arguments = json.dumps(call.args)
        item = {
            "id": f"fc_loop_{number}",
            "type": "function_call",
            "status": "in_progress",
            "call_id": _call_id(number, call.id, "call"),
            "name": call.name,
            "arguments": "",
        }
        where = {"item_id": item["id"], "output_index": index}
        frames.append(ev("response.output_item.added", {"output_index": index, "item": item}))
        frames.extend(
            ev("response.function_call_arguments.delta", {**where, "delta": p})
            for p in _pieces(arguments, reply.chunk_chars)
        )
        frames.append(
            ev("response.function_call_arguments.done", {**where, "arguments": arguments})
        )
        done = {**item, "status": "completed", "arguments": arguments}
        frames.append(ev("response.output_item.done", {"output_index": index, "item": done}))
        output.append(done)
    if reply.error is not None:
        kind, message = reply.error
        frames.append(ev("error", {"code": kind, "message": message, "param": None}))
        return frames
    usage = {
        "input_tokens": reply.input_tokens + reply.cache_read_tokens,
        "input_tokens_details": {"cached_tokens": reply.cache_read_tokens},
        "output_tokens": reply.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": reply.input_tokens + reply.cache_read_tokens + reply.output_tokens,
    }
    final = {**base, "output": output, "usage": usage}
    if reply.neutral_stop == "max_tokens":
        final |= {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
        frames.append(ev("response.incomplete", {"response": final}))
    else:
        frames.append(ev("response.completed", {"response": {**final, "status": "completed"}}))
    return frames


WIRES: dict[Wire, Callable[[Reply, str], list[bytes]]] = {
    "anthropic": render_anthropic,
    "chat": render_chat,
    "responses": render_responses,
}


def render(reply: Reply, wire: Wire, model: str = "loopback-model") -> bytes:
    """The whole byte stream of ``reply`` on ``wire`` (faults not applied)."""
    return b"".join(WIRES[wire](reply, model))


def error_body(error: HttpError, wire: Wire) -> dict[str, Any]:
    """The JSON body of an HTTP error, shaped like ``wire``'s API."""
    if wire == "anthropic":
        return {"type": "error", "error": {"type": error.type, "message": error.message}}
    return {
        "error": {"message": error.message, "type": error.type, "code": error.type, "param": None}
    }
