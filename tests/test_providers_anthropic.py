"""The Anthropic provider over real HTTP against the loopback server."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from arcan_core.errors import (
    AuthError,
    BadRequestError,
    ContextTooLongError,
    NetworkError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamError,
)
from arcan_core.protocol.messages import (
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from arcan_core.providers.anthropic import AnthropicProvider
from arcan_core.providers.base import (
    ProviderRequest,
    ProviderSettings,
    RetryNotice,
    StreamEnd,
    TextChunk,
    ToolCallBegin,
    ToolSpec,
)
from tests.loopback import (
    HttpError,
    LoopbackModelServer,
    Raw,
    RecordingSleep,
    Reply,
    ToolCall,
    run_stream,
    run_until_error,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

KEY = "sk-ant-test-SECRET-0123456789"

TOOLS = (
    ToolSpec(
        name="read",
        description="Read a file",
        input_schema={
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"],
        },
    ),
    ToolSpec(name="bash", description="Run a command", input_schema={"type": "object"}),
)

HELLO = ProviderRequest(
    model="claude-sonnet-4-5",
    system="You are arcan.",
    messages=(Message(role="user", content=(TextBlock(text="hi"),)),),
)


@pytest.fixture
async def server() -> AsyncIterator[LoopbackModelServer]:
    async with LoopbackModelServer(models=("claude-sonnet-4-5", "claude-haiku-4-5")) as running:
        yield running


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def provider(
    server: LoopbackModelServer, sleep: RecordingSleep
) -> AsyncIterator[AnthropicProvider]:
    settings = ProviderSettings(
        name="anthropic", base_url=server.anthropic_base_url, api_key=KEY, read_timeout_s=5
    )
    made = AnthropicProvider(settings, sleep=sleep, rand=lambda: 0.5)
    yield made
    await made.aclose()


def conversation() -> tuple[Message, ...]:
    return (
        Message(
            role="user",
            content=(
                TextBlock(text="Look at this"),
                ImageBlock(media_type="image/png", data="iVBORw0KGgo="),
            ),
        ),
        Message(
            role="assistant",
            content=(
                ThinkingBlock(thinking="Let me read it.", signature="SIG-abc/+=="),
                ThinkingBlock(thinking="", redacted="REDACTED-opaque"),
                ThinkingBlock(thinking="from another provider", signature="rs_123", redacted="x"),
                TextBlock(text="Reading."),
                TextBlock(text=""),
                ToolUseBlock(id="toolu_1", name="read", input={"path": "a.py"}),
                ToolUseBlock(id="toolu_2", name="bash", input={"command": "ls"}),
            ),
        ),
        Message(
            role="user",
            content=(
                TextBlock(text="and then?"),
                ToolResultBlock(tool_use_id="toolu_1", content="print(1)"),
                ToolResultBlock(
                    tool_use_id="toolu_2",
                    content="boom",
                    is_error=True,
                    images=(ImageBlock(media_type="image/png", data="AAAA"),),
                ),
            ),
        ),
    )


async def test_request_matches_the_messages_api(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(text="ok"))
    request = ProviderRequest(
        model="claude-sonnet-4-5",
        system="You are arcan.",
        messages=conversation(),
        tools=TOOLS,
        max_output_tokens=4000,
        thinking_budget=8000,
        temperature=0.3,
    )
    await run_stream(provider, request)
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers
    assert sent.headers["content-type"] == "application/json"
    body = sent.json
    assert body["model"] == "claude-sonnet-4-5"
    assert body["stream"] is True
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8000}
    assert body["max_tokens"] > 8000  # must exceed the thinking budget
    assert "temperature" not in body  # the API refuses temperature with thinking on
    assert body["system"] == [
        {"type": "text", "text": "You are arcan.", "cache_control": {"type": "ephemeral"}}
    ]
    assert body["tools"] == [
        {
            "name": "read",
            "description": "Read a file",
            "input_schema": TOOLS[0].input_schema,
        },
        {
            "name": "bash",
            "description": "Run a command",
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral"},
        },
    ]
    first, second, third = body["messages"]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert first["content"] == [
        {"type": "text", "text": "Look at this"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
            "cache_control": {"type": "ephemeral"},
        },
    ]
    assert second["content"] == [
        {"type": "thinking", "thinking": "Let me read it.", "signature": "SIG-abc/+=="},
        {"type": "redacted_thinking", "data": "REDACTED-opaque"},
        {"type": "text", "text": "Reading."},
        {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"path": "a.py"}},
        {"type": "tool_use", "id": "toolu_2", "name": "bash", "input": {"command": "ls"}},
    ]
    # Tool results come first in the user turn, paired by id; the recent turn is cached.
    assert third["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "print(1)"},
        {
            "type": "tool_result",
            "tool_use_id": "toolu_2",
            "content": [
                {"type": "text", "text": "boom"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                },
            ],
            "is_error": True,
        },
        {"type": "text", "text": "and then?", "cache_control": {"type": "ephemeral"}},
    ]
    breakpoints = sent.body.count(b"cache_control")
    assert breakpoints == 4  # the API allows four


async def test_no_cache_and_temperature_without_thinking(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(text="ok"))
    request = HELLO.model_copy(update={"cache": False, "temperature": 0.2, "tools": TOOLS})
    await run_stream(provider, request)
    body = server.requests[0].json
    assert b"cache_control" not in server.requests[0].body
    assert body["temperature"] == 0.2
    assert "thinking" not in body
    assert body["max_tokens"] == 8192


async def test_stream_maps_text_thinking_parallel_tools_and_usage(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(
        Reply(
            text="I'll look at both files.",
            thinking="The user wants two files read.",
            signature="sig-XYZ",
            redacted="opaque==",
            tool_calls=(
                ToolCall("read", {"path": "a.py"}, id="toolu_A"),
                ToolCall("read", {"path": "b.py"}, id="toolu_B"),
            ),
            input_tokens=120,
            output_tokens=42,
            cache_read_tokens=1000,
            cache_write_tokens=300,
            chunk_chars=3,
            frame_delay_s=0.01,  # each frame its own read: the fragments are not merged
        )
    )
    events, reply = await run_stream(provider, HELLO)
    message = reply.message()
    assert message.content == (
        ThinkingBlock(thinking="The user wants two files read.", signature="sig-XYZ"),
        ThinkingBlock(thinking="", redacted="opaque=="),
        TextBlock(text="I'll look at both files."),
        ToolUseBlock(id="toolu_A", name="read", input={"path": "a.py"}),
        ToolUseBlock(id="toolu_B", name="read", input={"path": "b.py"}),
    )
    assert reply.usage == Usage(
        input_tokens=120, output_tokens=42, cache_read_tokens=1000, cache_write_tokens=300
    )
    assert events[-1] == StreamEnd(stop_reason="tool_use")
    assert sum(isinstance(e, TextChunk) for e in events) > 1  # streamed, not buffered
    assert not reply.retries


async def test_thinking_round_trips_unchanged(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(thinking="deep thought", signature="Ep4BCkgIBx+/=", text="ok"), Reply())
    _, first = await run_stream(provider, HELLO)
    follow_up = HELLO.model_copy(
        update={
            "messages": (
                *HELLO.messages,
                first.message(),
                Message(role="user", content=(TextBlock(text="more"),)),
            )
        }
    )
    await run_stream(provider, follow_up)
    sent = server.requests[1].json["messages"][1]["content"][0]
    assert sent == {"type": "thinking", "thinking": "deep thought", "signature": "Ep4BCkgIBx+/="}


async def test_ping_and_unknown_events_are_ignored(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    frames = (
        (
            b'event: message_start\ndata: {"type":"message_start","message":{"usage":'
            b'{"input_tokens":5,"output_tokens":1}}}\n\n'
        ),
        b'event: ping\ndata: {"type": "ping"}\n\n',
        b'event: future_thing\ndata: {"type":"future_thing","x":1}\n\n',
        (
            b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            b'"content_block":{"type":"text","text":""}}\n\n'
        ),
        b": a comment from a proxy\n\n",
        (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":"hi"}}\n\n'
        ),
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        (
            b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
            b'"max_tokens"},"usage":{"output_tokens":9}}\n\n'
        ),
        b'event: message_stop\ndata: {"type":"message_stop"}',  # no blank line at EOF
    )
    server.enqueue(Raw(frames))
    events, reply = await run_stream(provider, HELLO)
    assert reply.text == "hi"
    assert reply.usage == Usage(input_tokens=5, output_tokens=9)
    assert events[-1] == StreamEnd(stop_reason="max_tokens")


async def test_overloaded_error_event_before_output_is_retried(
    server: LoopbackModelServer, provider: AnthropicProvider, sleep: RecordingSleep
) -> None:
    server.enqueue(Reply(error=("overloaded_error", "Overloaded")), Reply(text="fine"))
    events, reply = await run_stream(provider, HELLO)
    assert reply.text == "fine"
    [notice] = [e for e in events if isinstance(e, RetryNotice)]
    assert notice.attempt == 1
    assert notice.reason == "overloaded"
    assert notice.delay_s == pytest.approx(1.0)  # base delay, jitter centred by rand=0.5
    assert sleep.delays == [notice.delay_s]
    assert len(server.requests) == 2


async def test_error_event_after_output_raises_and_keeps_partial_text(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(text="partial answer", error=("overloaded_error", "Overloaded")))
    events, error = await run_until_error(provider, HELLO)
    assert isinstance(error, OverloadedError)
    assert "Overloaded" in error.message
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "partial answer"
    assert len(server.requests) == 1  # never retried after output


async def test_status_codes_retry_honouring_retry_after(
    server: LoopbackModelServer, provider: AnthropicProvider, sleep: RecordingSleep
) -> None:
    server.enqueue(
        HttpError(429, "rate_limit_error", "slow down", {"retry-after": "3"}),
        HttpError(529, "overloaded_error", "Overloaded", {"retry-after-ms": "1500"}),
        HttpError(500, "api_error", "Internal"),
        HttpError(408, "timeout_error", "timeout"),
        Reply(text="finally"),
    )
    events, reply = await run_stream(provider, HELLO)
    assert reply.text == "finally"
    notices = [e for e in events if isinstance(e, RetryNotice)]
    assert [n.reason for n in notices] == ["rate limited", "overloaded", "HTTP 500", "HTTP 408"]
    assert sleep.delays[:2] == [3.0, 1.5]
    assert sleep.delays[2:] == [pytest.approx(4.0), pytest.approx(8.0)]  # 1 s * 2**n backoff
    assert [n.attempt for n in notices] == [1, 2, 3, 4]


async def test_retries_give_up_after_max_retries(
    server: LoopbackModelServer, sleep: RecordingSleep
) -> None:
    settings = ProviderSettings(name="anthropic", base_url=server.url, api_key=KEY, max_retries=2)
    provider = AnthropicProvider(settings, sleep=sleep)
    server.enqueue(*(HttpError(503, "api_error", "unavailable") for _ in range(3)))
    events, error = await run_until_error(provider, HELLO)
    await provider.aclose()
    assert isinstance(error, OverloadedError)
    assert error.status == 503
    assert len(server.requests) == 3
    assert len(sleep.delays) == 2
    assert all(isinstance(e, RetryNotice) for e in events)


async def test_long_retry_after_is_not_waited_for(
    server: LoopbackModelServer, provider: AnthropicProvider, sleep: RecordingSleep
) -> None:
    server.enqueue(HttpError(429, "rate_limit_error", "quota", {"retry-after": "3600"}))
    _, error = await run_until_error(provider, HELLO)
    assert isinstance(error, RateLimitError)
    assert error.retry_after_s == 3600
    assert sleep.delays == []


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (401, "authentication_error", AuthError),
        (403, "permission_error", AuthError),
        (400, "invalid_request_error", BadRequestError),
        (404, "not_found_error", BadRequestError),
        (413, "request_too_large", BadRequestError),
    ],
)
async def test_non_retryable_statuses(
    server: LoopbackModelServer,
    provider: AnthropicProvider,
    status: int,
    kind: str,
    expected: type[Exception],
) -> None:
    server.enqueue(HttpError(status, kind, f"it failed: {kind}"))
    _, error = await run_until_error(provider, HELLO)
    assert type(error) is expected
    assert error.status == status
    assert kind in error.message
    assert error.hint
    assert len(server.requests) == 1


async def test_auth_error_says_what_to_do_and_never_shows_the_key(
    server: LoopbackModelServer, provider: AnthropicProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="arcan.providers")
    server.enqueue(HttpError(401, "authentication_error", "invalid x-api-key"))
    _, error = await run_until_error(provider, HELLO)
    assert isinstance(error, AuthError)
    assert error.hint is not None
    assert "ANTHROPIC_API_KEY" in error.hint
    assert "POST" in caplog.text  # the request was logged...
    for text in (str(error), error.hint, repr(error), repr(provider.settings), caplog.text):
        assert KEY not in text  # ...with its key redacted
    assert "***" in caplog.text


async def test_missing_key_fails_before_any_request(server: LoopbackModelServer) -> None:
    provider = AnthropicProvider(ProviderSettings(name="anthropic", base_url=server.url))
    _, error = await run_until_error(provider, HELLO)
    assert isinstance(error, AuthError)
    assert error.hint is not None
    assert "set ANTHROPIC_API_KEY" in error.hint
    assert server.requests == []


async def test_context_too_long_names_both_sizes(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(
        HttpError(
            400, "invalid_request_error", "prompt is too long: 212345 tokens > 200000 maximum"
        )
    )
    _, error = await run_until_error(provider, HELLO)
    assert isinstance(error, ContextTooLongError)
    assert error.message == "the prompt is 212k tokens; the model takes 200k"
    assert error.hint is not None
    assert "compact" in error.hint


async def test_cut_before_output_is_retried(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(text="lost", cut_after=2), Reply(text="whole"))
    events, reply = await run_stream(provider, HELLO)
    assert reply.text == "whole"
    assert [e.reason for e in events if isinstance(e, RetryNotice)] == ["network error"]


async def test_cut_after_output_raises_network_error_with_partial_text(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    # Frames: message_start, ping, block start, then text deltas of 8 characters.
    server.enqueue(Reply(text="0123456789abcdef", cut_after=5))
    events, error = await run_until_error(provider, HELLO)
    assert isinstance(error, NetworkError)
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "0123456789abcdef"
    assert len(server.requests) == 1


async def test_stream_that_ends_without_message_stop_is_an_error(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    frames = (
        (
            b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            b'"content_block":{"type":"text","text":""}}\n\n'
        ),
        (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":"half"}}\n\n'
        ),
    )
    server.enqueue(Raw(frames))
    events, error = await run_until_error(provider, HELLO)
    assert isinstance(error, NetworkError)
    assert "before the reply was complete" in error.message
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["half"]


async def test_malformed_json_is_a_stream_error_and_not_retried(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(text="abc", malformed_after=3))
    _, error = await run_until_error(provider, HELLO)
    assert isinstance(error, StreamError)
    assert "malformed JSON" in error.message
    assert len(server.requests) == 1


async def test_stall_hits_the_read_timeout(server: LoopbackModelServer) -> None:
    settings = ProviderSettings(
        name="anthropic", base_url=server.url, api_key=KEY, read_timeout_s=0.2
    )
    provider = AnthropicProvider(settings)
    server.enqueue(Reply(text="0123456789", stall_after=4))
    events, error = await run_until_error(provider, HELLO)
    await provider.aclose()
    assert isinstance(error, NetworkError)
    assert "sent nothing for 0.2 s" in error.message
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["01234567"]


async def test_cancelling_the_consumer_closes_the_connection(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(text="0123456789", stall_after=4))
    first_text = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(HELLO):
            if isinstance(event, TextChunk):
                first_text.set()

    task = asyncio.create_task(consume())
    await first_text.wait()
    assert server.disconnects == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await server.wait_for_disconnect()
    assert server.disconnects == 1


async def test_keep_alive_reuses_one_connection(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(text="one"), Reply(text="two"))
    await run_stream(provider, HELLO)
    await run_stream(provider, HELLO)
    assert [r.connection for r in server.requests] == [1, 1]


async def test_list_models(server: LoopbackModelServer, provider: AnthropicProvider) -> None:
    assert await provider.list_models() == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    [sent] = server.requests
    assert (sent.method, sent.path) == ("GET", "/v1/models")
    assert sent.headers["x-api-key"] == KEY


async def test_tool_call_begin_precedes_its_arguments(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    server.enqueue(Reply(tool_calls=(ToolCall("bash", {"command": "ls -la"}),)))
    events, reply = await run_stream(provider, HELLO)
    begin = next(i for i, e in enumerate(events) if isinstance(e, ToolCallBegin))
    assert all(not isinstance(e, TextChunk) for e in events[:begin])
    assert reply.tool_calls[0].parsed() == {"command": "ls -la"}
    assert reply.tool_calls[0].complete


async def test_server_error_class_for_5xx(
    server: LoopbackModelServer, sleep: RecordingSleep
) -> None:
    settings = ProviderSettings(name="anthropic", base_url=server.url, api_key=KEY, max_retries=0)
    provider = AnthropicProvider(settings, sleep=sleep)
    server.enqueue(HttpError(502, "api_error", "bad gateway"))
    _, error = await run_until_error(provider, HELLO)
    await provider.aclose()
    assert isinstance(error, ServerError)
    assert error.retryable


async def test_valid_json_of_the_wrong_shape_is_a_stream_error(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    frames = (
        (
            b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            b'"content_block":{"type":"tool_use"}}\n\n'
        ),
    )
    server.enqueue(Raw(frames))
    _, error = await run_until_error(provider, HELLO)
    assert isinstance(error, StreamError)
    assert "unexpected shape" in error.message
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("content_type", "body", "gist"),
    [
        (
            "text/html; charset=utf-8",
            b"<html><head><title>Hotel Wi-Fi login</title></head><body>...</body></html>",
            "a web page, not an event stream: Hotel Wi-Fi login",
        ),
        (
            "application/json",
            b'{"error": {"message": "streaming is disabled on this gateway"}}',
            "a whole JSON document, not an event stream: streaming is disabled on this gateway",
        ),
    ],
)
async def test_a_200_that_is_not_a_stream_fails_at_once_and_says_what_came(
    server: LoopbackModelServer,
    provider: AnthropicProvider,
    sleep: RecordingSleep,
    content_type: str,
    body: bytes,
    gist: str,
) -> None:
    # A wrong base URL (a web page, a gateway that ignores "stream") must not look like a cut
    # connection: no retries, and a message that says what answered and what to check.
    server.enqueue(Raw((body,), content_type=content_type))
    events, error = await run_until_error(provider, HELLO)
    assert events == []
    assert isinstance(error, StreamError)
    assert gist in error.message
    assert error.hint is not None
    assert "--base-url" in error.hint
    assert len(server.requests) == 1
    assert sleep.delays == []


async def test_a_stream_with_a_charset_in_its_content_type_is_read(
    server: LoopbackModelServer, provider: AnthropicProvider
) -> None:
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"message": {"usage": {"input_tokens": 3, "output_tokens": 0}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
        ("content_block_stop", {"index": 0}),
        ("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}}),
        ("message_stop", {}),
    ]
    frames = tuple(
        f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()
        for name, data in events
    )
    server.enqueue(Raw(frames, content_type="text/event-stream; charset=utf-8"))
    _, reply = await run_stream(provider, HELLO)
    assert reply.text == "ok"


async def test_an_html_error_page_is_reported_by_its_title_not_its_markup(
    server: LoopbackModelServer, sleep: RecordingSleep
) -> None:
    settings = ProviderSettings(name="anthropic", base_url=server.url, api_key=KEY, max_retries=0)
    provider = AnthropicProvider(settings, sleep=sleep)
    page = b"<html><head><title>404 Not Found</title></head><body>" + b"<p>x</p>" * 500 + b"</html>"
    untitled = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    server.enqueue(Raw((page,), status=404, content_type="text/html"))
    server.enqueue(Raw((untitled,), status=502, content_type="text/html"))
    _, not_found = await run_until_error(provider, HELLO)
    _, bad_gateway = await run_until_error(provider, HELLO)
    await provider.aclose()
    assert "404 Not Found" in not_found.message
    assert "<" not in not_found.message
    assert len(not_found.message) < 200
    assert "502 Bad Gateway nginx" in bad_gateway.message
    assert "<" not in bad_gateway.message
