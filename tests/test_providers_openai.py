"""The OpenAI providers (Chat Completions and Responses) over real HTTP against the loopback."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import (
    AuthError,
    ContextTooLongError,
    NetworkError,
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
from arcan_core.providers.base import (
    ProviderRequest,
    ProviderSettings,
    RetryNotice,
    StreamEnd,
    TextChunk,
    ToolCallChunk,
    ToolCallEnd,
    ToolSpec,
)
from arcan_core.providers.openai_chat import OpenAIChatProvider
from arcan_core.providers.openai_responses import OpenAIResponsesProvider
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

KEY = "sk-proj-test-SECRET-987654321"
SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
TOOLS = (ToolSpec(name="read", description="Read a file", input_schema=SCHEMA),)
HELLO = ProviderRequest(
    model="gpt-4.1",
    system="You are arcan.",
    messages=(Message(role="user", content=(TextBlock(text="hi"),)),),
)


def conversation() -> tuple[Message, ...]:
    return (
        Message(
            role="user",
            content=(
                TextBlock(text="Look"),
                ImageBlock(media_type="image/png", data="iVBO"),
            ),
        ),
        Message(
            role="assistant",
            content=(
                ThinkingBlock(thinking="summary", signature="rs_abc", redacted="gAAAA-enc"),
                ThinkingBlock(thinking="anthropic thought", signature="SIG"),
                TextBlock(text="Reading two files."),
                ToolUseBlock(id="call_1", name="read", input={"path": "a.py"}),
                ToolUseBlock(id="call_2", name="read", input={"path": "b.py"}),
            ),
        ),
        Message(
            role="user",
            content=(
                ToolResultBlock(tool_use_id="call_1", content="A"),
                ToolResultBlock(
                    tool_use_id="call_2",
                    content="no such file",
                    is_error=True,
                    images=(ImageBlock(media_type="image/jpeg", data="JPEG"),),
                ),
                TextBlock(text="continue"),
            ),
        ),
    )


@pytest.fixture
async def server() -> AsyncIterator[LoopbackModelServer]:
    async with LoopbackModelServer(models=("gpt-5", "gpt-4.1")) as running:
        yield running


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def chat(
    server: LoopbackModelServer, sleep: RecordingSleep
) -> AsyncIterator[OpenAIChatProvider]:
    settings = ProviderSettings(name="openai-chat", base_url=server.openai_base_url, api_key=KEY)
    made = OpenAIChatProvider(settings, sleep=sleep, rand=lambda: 0.5)
    yield made
    await made.aclose()


@pytest.fixture
async def responses(
    server: LoopbackModelServer, sleep: RecordingSleep
) -> AsyncIterator[OpenAIResponsesProvider]:
    settings = ProviderSettings(name="openai", base_url=server.openai_base_url, api_key=KEY)
    made = OpenAIResponsesProvider(settings, sleep=sleep, rand=lambda: 0.5)
    yield made
    await made.aclose()


# -- Chat Completions ------------------------------------------------------------------------


async def test_chat_request_matches_the_api(
    server: LoopbackModelServer, chat: OpenAIChatProvider
) -> None:
    server.enqueue(Reply(text="ok"))
    request = ProviderRequest(
        model="gpt-4.1",
        system="You are arcan.",
        messages=conversation(),
        tools=TOOLS,
        max_output_tokens=1000,
        reasoning_effort="low",
        temperature=0.1,
    )
    await run_stream(chat, request)
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in sent.headers
    body = sent.json
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 1000
    assert "max_tokens" not in body
    assert body["reasoning_effort"] == "low"
    assert body["temperature"] == 0.1
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "read", "description": "Read a file", "parameters": SCHEMA},
        }
    ]
    assert body["messages"] == [
        {"role": "system", "content": "You are arcan."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Reading two files.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read", "arguments": '{"path": "a.py"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "read", "arguments": '{"path": "b.py"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "A"},
        {"role": "tool", "tool_call_id": "call_2", "content": "Error: no such file"},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,JPEG"}},
                {"type": "text", "text": "continue"},
            ],
        },
    ]


def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
    body = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


async def test_chat_parallel_tool_calls_interleaved_by_index(
    server: LoopbackModelServer, chat: OpenAIChatProvider
) -> None:
    def call(index: int, **fields: object) -> dict[str, object]:
        return {"tool_calls": [{"index": index, **fields}]}

    frames = (
        chunk({"role": "assistant", "content": None}),
        chunk(call(0, id="call_a", type="function", function={"name": "read", "arguments": ""})),
        chunk(call(1, id="call_b", type="function", function={"name": "grep", "arguments": ""})),
        chunk(call(0, function={"arguments": '{"pa'})),
        chunk(call(1, function={"arguments": '{"pattern": '})),
        chunk(call(0, function={"arguments": 'th": "x.py"}'})),
        chunk(call(1, function={"arguments": '"TODO"}'})),
        chunk({}, "tool_calls"),
        (
            b'data: {"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,'
            b'"prompt_tokens_details":{"cached_tokens":60}}}\n\n'
        ),
        b"data: [DONE]\n\n",
    )
    server.enqueue(Raw(frames))
    events, reply = await run_stream(chat, HELLO)
    assert [(c.call_id, c.name, c.parsed()) for c in reply.tool_calls] == [
        ("call_a", "read", {"path": "x.py"}),
        ("call_b", "grep", {"pattern": "TODO"}),
    ]
    assert all(call.complete for call in reply.tool_calls)
    fragments = [e.call_id for e in events if isinstance(e, ToolCallChunk)]
    assert fragments == ["call_a", "call_b", "call_a", "call_b"]
    assert reply.usage == Usage(input_tokens=40, output_tokens=20, cache_read_tokens=60)
    assert events[-1] == StreamEnd(stop_reason="tool_use")


async def test_chat_text_reply_and_finish_reasons(
    server: LoopbackModelServer, chat: OpenAIChatProvider
) -> None:
    server.enqueue(Reply(text="Hello there, friend.", stop_reason="max_tokens", output_tokens=7))
    events, reply = await run_stream(chat, HELLO)
    assert reply.text == "Hello there, friend."
    assert reply.usage.output_tokens == 7
    assert events[-1] == StreamEnd(stop_reason="max_tokens")


async def test_chat_error_chunk_mid_stream(
    server: LoopbackModelServer, chat: OpenAIChatProvider
) -> None:
    server.enqueue(Reply(text="partial", error=("server_error", "The server had an error")))
    events, error = await run_until_error(chat, HELLO)
    assert isinstance(error, ServerError)
    assert "The server had an error" in error.message
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "partial"
    assert len(server.requests) == 1


async def test_chat_retries_429_with_retry_after_ms(
    server: LoopbackModelServer, chat: OpenAIChatProvider, sleep: RecordingSleep
) -> None:
    server.enqueue(
        HttpError(429, "rate_limit_exceeded", "Rate limit reached", {"retry-after-ms": "250"}),
        Reply(text="ok"),
    )
    events, reply = await run_stream(chat, HELLO)
    assert reply.text == "ok"
    assert sleep.delays == [0.25]
    assert [e.reason for e in events if isinstance(e, RetryNotice)] == ["rate limited"]


async def test_chat_auth_and_context_errors(
    server: LoopbackModelServer, chat: OpenAIChatProvider
) -> None:
    server.enqueue(
        HttpError(401, "invalid_api_key", "Incorrect API key provided: sk-proj-****4321"),
        HttpError(
            400,
            "context_length_exceeded",
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 131072 tokens. Please reduce the length of the messages.",
        ),
    )
    _, auth = await run_until_error(chat, HELLO)
    assert isinstance(auth, AuthError)
    assert auth.hint is not None
    assert "OPENAI_API_KEY" in auth.hint
    assert KEY not in str(auth)
    _, context = await run_until_error(chat, HELLO)
    assert isinstance(context, ContextTooLongError)
    assert context.message == "the prompt is 131k tokens; the model takes 128k"


async def test_chat_stream_without_finish_or_done_is_truncated(
    server: LoopbackModelServer, chat: OpenAIChatProvider
) -> None:
    server.enqueue(Raw((chunk({"content": "half"}),)))
    events, error = await run_until_error(chat, HELLO)
    assert isinstance(error, NetworkError)
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["half"]


async def test_chat_list_models(server: LoopbackModelServer, chat: OpenAIChatProvider) -> None:
    assert await chat.list_models() == ["gpt-5", "gpt-4.1"]
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert server.requests[0].path == "/v1/models"


# -- Responses -------------------------------------------------------------------------------


async def test_responses_request_matches_the_api(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider
) -> None:
    server.enqueue(Reply(text="ok"))
    request = ProviderRequest(
        model="gpt-5",
        system="You are arcan.",
        messages=conversation(),
        tools=TOOLS,
        max_output_tokens=2000,
        reasoning_effort="high",
    )
    await run_stream(responses, request)
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/responses")
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = sent.json
    assert body["stream"] is True
    assert body["store"] is False
    assert body["instructions"] == "You are arcan."
    assert body["max_output_tokens"] == 2000
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "read",
            "description": "Read a file",
            "parameters": SCHEMA,
            "strict": False,
        }
    ]
    assert body["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Look"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBO"},
            ],
        },
        {
            "type": "reasoning",
            "id": "rs_abc",
            "summary": [{"type": "summary_text", "text": "summary"}],
            "encrypted_content": "gAAAA-enc",
        },
        {"role": "assistant", "content": "Reading two files."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "read",
            "arguments": '{"path": "a.py"}',
        },
        {
            "type": "function_call",
            "call_id": "call_2",
            "name": "read",
            "arguments": '{"path": "b.py"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "A"},
        {"type": "function_call_output", "call_id": "call_2", "output": "Error: no such file"},
        {
            "role": "user",
            "content": [
                {"type": "input_image", "image_url": "data:image/jpeg;base64,JPEG"},
                {"type": "input_text", "text": "continue"},
            ],
        },
    ]


async def test_responses_non_reasoning_model_asks_for_no_reasoning(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider
) -> None:
    server.enqueue(Reply(text="ok"))
    await run_stream(responses, HELLO)
    body = server.requests[0].json
    assert "reasoning" not in body
    assert "include" not in body


async def test_responses_stream_reasoning_text_tools_usage(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider
) -> None:
    server.enqueue(
        Reply(
            thinking="I should read the file.",
            redacted="gAAAAB-encrypted",
            text="Reading.",
            tool_calls=(
                ToolCall("read", {"path": "a.py"}, id="call_X"),
                ToolCall("read", {"path": "b.py"}, id="call_Y"),
            ),
            input_tokens=50,
            cache_read_tokens=950,
            output_tokens=30,
            chunk_chars=4,
        )
    )
    events, reply = await run_stream(responses, HELLO.model_copy(update={"model": "gpt-5"}))
    assert reply.message().content == (
        ThinkingBlock(
            thinking="I should read the file.", signature="rs_loopback", redacted="gAAAAB-encrypted"
        ),
        TextBlock(text="Reading."),
        ToolUseBlock(id="call_X", name="read", input={"path": "a.py"}),
        ToolUseBlock(id="call_Y", name="read", input={"path": "b.py"}),
    )
    assert [e.call_id for e in events if isinstance(e, ToolCallEnd)] == ["call_X", "call_Y"]
    assert reply.usage == Usage(input_tokens=50, output_tokens=30, cache_read_tokens=950)
    assert events[-1] == StreamEnd(stop_reason="tool_use")


async def test_responses_reasoning_round_trips(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider
) -> None:
    server.enqueue(Reply(thinking="plan", redacted="ENC-1", text="done"), Reply(text="ok"))
    request = HELLO.model_copy(update={"model": "gpt-5"})
    _, first = await run_stream(responses, request)
    follow = request.model_copy(
        update={
            "messages": (
                *request.messages,
                first.message(),
                Message(role="user", content=(TextBlock(text="next"),)),
            )
        }
    )
    await run_stream(responses, follow)
    items = server.requests[1].json["input"]
    assert items[1] == {
        "type": "reasoning",
        "id": "rs_loopback",
        "summary": [{"type": "summary_text", "text": "plan"}],
        "encrypted_content": "ENC-1",
    }


async def test_responses_incomplete_is_max_tokens(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider
) -> None:
    server.enqueue(Reply(text="cut sh", stop_reason="max_tokens"))
    events, reply = await run_stream(responses, HELLO)
    assert reply.text == "cut sh"
    assert events[-1] == StreamEnd(stop_reason="max_tokens")


async def test_responses_error_event_before_output_is_retried(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider, sleep: RecordingSleep
) -> None:
    server.enqueue(Reply(error=("server_error", "try again")), Reply(text="ok"))
    events, reply = await run_stream(responses, HELLO)
    assert reply.text == "ok"
    assert len(sleep.delays) == 1
    assert [e.reason for e in events if isinstance(e, RetryNotice)] == ["server error"]


async def test_responses_failed_event_raises_typed_error(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider
) -> None:
    failed = {
        "type": "response.failed",
        "response": {"status": "failed", "error": {"code": "invalid_prompt", "message": "nope"}},
    }
    frames = (
        (
            b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
            b'"item_id":"m","output_index":0,"content_index":0,"delta":"par"}\n\n'
        ),
        f"event: response.failed\ndata: {json.dumps(failed)}\n\n".encode(),
    )
    server.enqueue(Raw(frames))
    events, error = await run_until_error(responses, HELLO)
    assert "nope" in error.message
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["par"]


async def test_responses_cut_mid_stream_keeps_partial(
    server: LoopbackModelServer, responses: OpenAIResponsesProvider
) -> None:
    server.enqueue(Reply(text="abcdefghijkl", cut_after=7))
    events, error = await run_until_error(responses, HELLO)
    assert isinstance(error, NetworkError)
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "abcdefghijkl"


async def test_chat_gateway_answering_json_instead_of_a_stream_fails_at_once(
    server: LoopbackModelServer, chat: OpenAIChatProvider, sleep: RecordingSleep
) -> None:
    body = b'{"choices": [{"message": {"role": "assistant", "content": "whole"}}]}'
    server.enqueue(Raw((body,), content_type="application/json"))
    events, error = await run_until_error(chat, HELLO)
    assert events == []
    assert isinstance(error, StreamError)
    assert "a whole JSON document, not an event stream" in error.message
    assert sleep.delays == []
    assert len(server.requests) == 1


async def test_a_404_points_at_the_base_url_as_well_as_the_model(
    server: LoopbackModelServer, sleep: RecordingSleep
) -> None:
    # A base URL without /v1 is the usual cause: the hint must not blame the model name alone.
    settings = ProviderSettings(name="openai-chat", base_url=server.url, api_key=KEY)
    provider = OpenAIChatProvider(settings, sleep=sleep)
    _, error = await run_until_error(provider, HELLO)
    await provider.aclose()
    assert error.status == 404
    assert error.hint is not None
    assert "base URL" in error.hint
    assert "/v1" in error.hint
