"""The core against real HTTP: the Anthropic and OpenAI providers talking to the loopback server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from arcan_core.agent.session import CoreOptions, open_core
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import (
    ErrorEvent,
    RetryScheduled,
    TextDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    TurnFinished,
    UsageUpdated,
)
from arcan_core.protocol.messages import ThinkingBlock, ToolResultBlock
from arcan_core.protocol.operations import AnswerApproval, Interrupt, Shutdown, SubmitPrompt
from tests.agent_support import collect_turn, of_type
from tests.loopback.replies import HttpError, Reply, ToolCall
from tests.loopback.server import LoopbackModelServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
async def server() -> AsyncIterator[LoopbackModelServer]:
    async with LoopbackModelServer() as running:
        yield running


def _options(project: Path, server: LoopbackModelServer, provider: str) -> CoreOptions:
    base_url = server.anthropic_base_url if provider == "anthropic" else server.openai_base_url
    config = ArcanConfig(provider=provider, model="loopback-model", base_url=base_url)
    return CoreOptions(
        project_dir=project,
        config=config,
        env={"ANTHROPIC_API_KEY": "test-key", "OPENAI_API_KEY": "test-key"},
        home=project / "home",
        checkpoints=False,
    )


@pytest.mark.parametrize("provider", ["anthropic", "openai-chat", "openai"])
async def test_tool_loop_over_http(
    tmp_path: Path, server: LoopbackModelServer, provider: str
) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "b.txt").write_text("beta\n")
    server.enqueue(
        Reply(
            thinking="Both files, at once.",
            text="Reading.",
            tool_calls=(
                ToolCall("read", {"path": "a.txt"}, id="call_a"),
                ToolCall("read", {"path": "b.txt"}, id="call_b"),
            ),
            input_tokens=1200,
            output_tokens=40,
        ),
        Reply(text="a says alpha, b says beta.", input_tokens=1400, output_tokens=12),
    )
    core = await open_core(_options(tmp_path, server, provider))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="read a.txt and b.txt"))
    seen = await collect_turn(core, events)
    finished = of_type(seen, TurnFinished)[0]
    assert finished.stop_reason == "end_turn", of_type(seen, ErrorEvent)
    assert finished.steps == 2
    results = of_type(seen, ToolCallFinished)
    assert sorted(r.result.strip().split()[-1] for r in results) == ["alpha", "beta"]
    assert core.messages[-1].text() == "a says alpha, b says beta."
    assert of_type(seen, UsageUpdated)[-1].session_usage.input_tokens == 2600
    # The second request carried the calls and both results back, in call order.
    second = server.requests[-1].json
    assert "call_a" in str(second)
    assert str(second).index("call_a") < str(second).index("call_b")
    if provider == "anthropic":
        thinking = core.messages[1].content[0]
        assert isinstance(thinking, ThinkingBlock)
        assert thinking.signature == "sig-loopback"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_interrupt_mid_stream_closes_the_connection(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    server.enqueue(
        Reply(text="a long answer " * 50, stall_after=6),
        Reply(text="short answer"),
    )
    core = await open_core(_options(tmp_path, server, "anthropic"))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    async for event in events:
        if isinstance(event.msg, TextDelta):
            core.submit(Interrupt())
            break
    seen = await collect_turn(core, events)
    assert of_type(seen, TurnFinished)[0].stop_reason == "interrupted"
    await server.wait_for_disconnect()
    assert core.messages[-1].incomplete
    core.submit(SubmitPrompt(text="again"))
    seen = await collect_turn(core, events)
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    assert core.messages[-1].text() == "short answer"
    # The cut reply went back marked as cut.
    assert "cut short" in str(server.requests[-1].json)
    core.submit(Shutdown())
    await core.wait_closed()


async def test_denied_approval_over_http(tmp_path: Path, server: LoopbackModelServer) -> None:
    server.enqueue(
        Reply(tool_calls=(ToolCall("write", {"path": "x.txt", "content": "x"}, id="w1"),)),
        Reply(text="Fine, not writing."),
    )
    core = await open_core(_options(tmp_path, server, "anthropic"))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="write x.txt"))
    async for event in events:
        if isinstance(event.msg, ToolCallAwaitingApproval):
            core.submit(AnswerApproval(call_id="w1", decision="deny", reason="no thanks"))
        if isinstance(event.msg, TurnFinished):
            break
    assert not (tmp_path / "x.txt").exists()
    result = core.messages[2].content[0]
    assert isinstance(result, ToolResultBlock)
    assert result.is_error
    assert "no thanks" in result.content
    core.submit(Shutdown())
    await core.wait_closed()


async def test_retry_then_success_over_http(tmp_path: Path, server: LoopbackModelServer) -> None:
    server.enqueue(
        HttpError(429, type="rate_limit_error", message="slow down", headers={"retry-after": "0"}),
        Reply(text="made it"),
    )
    core = await open_core(_options(tmp_path, server, "anthropic"))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    seen = await collect_turn(core, events)
    assert of_type(seen, RetryScheduled)
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_server_error_ends_the_turn_with_an_error_event(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    server.enqueue(HttpError(401, type="authentication_error", message="invalid x-api-key"))
    core = await open_core(_options(tmp_path, server, "anthropic"))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    seen = await collect_turn(core, events)
    error = of_type(seen, ErrorEvent)[0]
    assert error.kind == "AuthError"
    assert of_type(seen, TurnFinished)[0].stop_reason == "error"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_openai_reasoning_goes_back_with_its_id_and_encrypted_content(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    # The Responses API closes a reasoning item with its id (signature) and its encrypted content
    # (redacted) in one chunk; the next request must carry both, or the reasoning is lost.
    (tmp_path / "a.txt").write_text("alpha\n")
    server.enqueue(
        Reply(
            thinking="Read the file first.",
            redacted="enc-blob-1",
            tool_calls=(ToolCall("read", {"path": "a.txt"}, id="call_a"),),
        ),
        Reply(text="It says alpha."),
    )
    core = await open_core(_options(tmp_path, server, "openai"))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="read a.txt"))
    seen = await collect_turn(core, events)
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn", of_type(seen, ErrorEvent)
    [thinking] = [b for b in core.messages[1].content if isinstance(b, ThinkingBlock)]
    assert thinking.signature == "rs_loopback"
    assert thinking.redacted == "enc-blob-1"
    assert thinking.thinking == "Read the file first."
    second = server.requests[-1].json
    [reasoning] = [item for item in second["input"] if item.get("type") == "reasoning"]
    assert reasoning["id"] == "rs_loopback"
    assert reasoning["encrypted_content"] == "enc-blob-1"
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Read the file first."}]
    core.submit(Shutdown())
    await core.wait_closed()
