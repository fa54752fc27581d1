"""The local provider: OpenAI-compatible servers' quirks, the port probe, model resolution."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import BadRequestError, NetworkError
from arcan_core.protocol.messages import Message, TextBlock, Usage
from arcan_core.providers.base import (
    ProviderRequest,
    ProviderSettings,
    StreamEnd,
    ToolCallBegin,
    UsageReport,
)
from arcan_core.providers.local import LocalProvider, normalize_base_url, probe_local_servers
from tests.loopback import (
    CHAT_QUIRKS,
    LoopbackModelServer,
    RecordingSleep,
    Reply,
    ToolCall,
    run_stream,
    run_until_error,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.loopback import Quirk

REQUEST = ProviderRequest(
    model="qwen2.5-coder:7b",
    system="sys",
    messages=(Message(role="user", content=(TextBlock(text="hi"),)),),
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def server() -> AsyncIterator[LoopbackModelServer]:
    async with LoopbackModelServer(models=("qwen2.5-coder:7b", "llama3.1:8b")) as running:
        yield running


def local(base_url: str | None, **kwargs: object) -> LocalProvider:
    settings = ProviderSettings(name="local", base_url=base_url, max_retries=1)
    return LocalProvider(settings.model_copy(update=kwargs), sleep=RecordingSleep())


async def test_request_uses_max_tokens_and_no_auth_without_key(
    server: LoopbackModelServer,
) -> None:
    server.enqueue(Reply(text="hello"))
    provider = local(server.openai_base_url)
    await run_stream(provider, REQUEST)
    await provider.aclose()
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert "authorization" not in sent.headers
    assert sent.json["max_tokens"] == 8192
    assert "max_completion_tokens" not in sent.json
    assert sent.json["model"] == "qwen2.5-coder:7b"


async def test_key_is_sent_as_bearer_when_configured(server: LoopbackModelServer) -> None:
    server.enqueue(Reply(text="hello"))
    provider = local(server.openai_base_url, api_key="vllm-token")
    await run_stream(provider, REQUEST)
    await provider.aclose()
    assert server.requests[0].headers["authorization"] == "Bearer vllm-token"


@pytest.mark.parametrize(
    "quirks",
    [
        CHAT_QUIRKS,
        frozenset({"no_ids", "no_index"}),
        frozenset({"whole_args", "no_index", "stop_not_tool_calls", "no_done"}),
        frozenset({"no_usage"}),
    ],
)
async def test_quirky_tool_call_streams_assemble(
    server: LoopbackModelServer, quirks: frozenset[Quirk]
) -> None:
    server.enqueue(
        Reply(
            text="Let me check.",
            tool_calls=(
                ToolCall("read", {"path": "a.py"}),
                ToolCall("grep", {"pattern": "def main", "path": "."}),
            ),
            quirks=quirks,
            chunk_chars=6,
        )
    )
    provider = local(server.openai_base_url)
    events, reply = await run_stream(provider, REQUEST)
    await provider.aclose()
    assert reply.text == "Let me check."
    calls = reply.tool_calls
    assert [(c.name, c.parsed()) for c in calls] == [
        ("read", {"path": "a.py"}),
        ("grep", {"pattern": "def main", "path": "."}),
    ]
    assert all(call.complete for call in calls)
    ids = [call.call_id for call in calls]
    assert len(set(ids)) == 2
    assert all(ids)
    assert events[-1] == StreamEnd(stop_reason="tool_use")
    has_usage = any(isinstance(e, UsageReport) for e in events)
    assert has_usage is ("no_usage" not in quirks)
    if "no_usage" not in quirks:
        assert reply.usage == Usage(input_tokens=10, output_tokens=5)


async def test_stream_without_done_ends_cleanly(server: LoopbackModelServer) -> None:
    server.enqueue(Reply(text="plain", quirks=frozenset({"no_done"})))
    provider = local(server.openai_base_url)
    events, reply = await run_stream(provider, REQUEST)
    await provider.aclose()
    assert reply.text == "plain"
    assert events[-1] == StreamEnd(stop_reason="end_turn")


async def test_reasoning_content_is_thinking(server: LoopbackModelServer) -> None:
    server.enqueue(Reply(thinking="<think>hmm", text="answer"))
    provider = local(server.openai_base_url)
    _, reply = await run_stream(provider, REQUEST)
    await provider.aclose()
    content = reply.message().content
    assert [block.type for block in content] == ["thinking", "text"]


async def test_default_model_is_the_servers_first(server: LoopbackModelServer) -> None:
    server.enqueue(Reply(text="a"), Reply(text="b"))
    provider = local(server.url)  # a bare URL gets /v1
    request = REQUEST.model_copy(update={"model": LocalProvider.default_model})
    await run_stream(provider, request)
    await run_stream(provider, request)
    await provider.aclose()
    assert [r.path for r in server.requests] == [
        "/v1/models",
        "/v1/chat/completions",
        "/v1/chat/completions",
    ]
    assert server.requests[1].json["model"] == "qwen2.5-coder:7b"
    assert server.requests[2].json["model"] == "qwen2.5-coder:7b"


async def test_probe_finds_the_first_answering_server(
    server: LoopbackModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = (("llama.cpp", closed_port()), ("Ollama", server.port))
    assert await probe_local_servers(targets) == ("Ollama", server.openai_base_url)
    monkeypatch.setattr(LocalProvider, "probe_targets", targets)
    server.enqueue(Reply(text="found you"))
    provider = local(None)
    _, reply = await run_stream(provider, REQUEST)
    await provider.aclose()
    assert reply.text == "found you"
    assert provider.server_name == "Ollama"
    assert provider.base_url == server.openai_base_url


async def test_probe_with_nothing_running_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    targets = (("llama.cpp", closed_port()), ("LM Studio", closed_port()))
    monkeypatch.setattr(LocalProvider, "probe_targets", targets)
    provider = local(None, max_retries=4)
    events, error = await run_until_error(provider, REQUEST)
    assert events == []  # the probe tried every port at once: no retries of it
    assert isinstance(error, NetworkError)
    assert "llama.cpp" in error.message
    assert "LM Studio" in error.message
    assert error.hint is not None
    assert "--base-url" in error.hint


async def test_connection_refused_is_a_network_error() -> None:
    provider = local(f"http://127.0.0.1:{closed_port()}/v1")
    events, error = await run_until_error(provider, REQUEST)
    await provider.aclose()
    assert isinstance(error, NetworkError)
    assert "cannot connect" in error.message
    assert [type(e).__name__ for e in events] == ["RetryNotice"]  # max_retries=1


def test_normalize_base_url() -> None:
    assert normalize_base_url("http://localhost:11434") == "http://localhost:11434/v1"
    assert normalize_base_url("http://localhost:8080/") == "http://localhost:8080/v1"
    assert normalize_base_url("http://box:8000/v1/") == "http://box:8000/v1"
    assert normalize_base_url("https://proxy/openai") == "https://proxy/openai"


async def test_tool_call_names_arrive_with_begin(server: LoopbackModelServer) -> None:
    server.enqueue(Reply(tool_calls=(ToolCall("bash", {"command": "ls"}),), quirks=CHAT_QUIRKS))
    provider = local(server.openai_base_url)
    events, _ = await run_stream(provider, REQUEST)
    await provider.aclose()
    [begin] = [e for e in events if isinstance(e, ToolCallBegin)]
    assert begin.name == "bash"
    assert begin.call_id.startswith("call_")


async def test_a_url_without_scheme_fails_at_once_with_a_hint() -> None:
    provider = local("localhost:8080/v1")
    events, error = await run_until_error(provider, REQUEST)
    await provider.aclose()
    assert isinstance(error, BadRequestError)
    assert "not a valid http(s) URL" in error.message
    assert error.hint is not None
    assert "--base-url" in error.hint
    assert events == []  # not retried


async def test_server_without_a_model_list_gets_the_placeholder_name(
    server: LoopbackModelServer,
) -> None:
    server.models = []
    server.enqueue(Reply(text="ok"))
    provider = local(server.openai_base_url)
    request = REQUEST.model_copy(update={"model": LocalProvider.default_model})
    _, reply = await run_stream(provider, request)
    await provider.aclose()
    assert reply.text == "ok"
    assert server.requests[-1].json["model"] == LocalProvider.default_model
