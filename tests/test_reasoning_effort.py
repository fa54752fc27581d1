"""Reasoning effort: ``SetReasoning`` changes the next request on every provider's wire.

The core runs against the loopback server speaking each API, so what is asserted is the JSON body
the provider really sent: Anthropic's ``thinking`` budget, the Responses ``reasoning.effort`` and
Chat Completions' ``reasoning_effort``, each only for a model that reasons.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import TypeAdapter

from arcan_core.agent.loop import THINKING_BUDGETS, reasoning_knobs
from arcan_core.agent.session import CoreOptions, open_core
from arcan_core.agent.state import RequestSettings
from arcan_core.config.model import ArcanConfig, ModelOverride
from arcan_core.protocol.events import (
    Event,
    ReasoningChanged,
    ToolCallAwaitingApproval,
    TurnFinished,
)
from arcan_core.protocol.events import (
    Warning as WarningEvent,
)
from arcan_core.protocol.operations import (
    AnswerApproval,
    Operation,
    SetReasoning,
    Shutdown,
    SubmitPrompt,
)
from arcan_core.providers.base import ModelInfo
from arcan_core.providers.models import model_info
from tests.agent_support import collect_turn, of_type
from tests.loopback.replies import Reply, ToolCall
from tests.loopback.server import LoopbackModelServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from arcan_core.agent.daemon import CoreDaemon

KEYS = {"ANTHROPIC_API_KEY": "test-key", "OPENAI_API_KEY": "test-key"}


@pytest.fixture
async def server() -> AsyncIterator[LoopbackModelServer]:
    async with LoopbackModelServer() as running:
        yield running


async def _core(
    project: Path, server: LoopbackModelServer, provider: str, model: str, **config: Any
) -> CoreDaemon:
    base_url = server.anthropic_base_url if provider == "anthropic" else server.openai_base_url
    return await open_core(
        CoreOptions(
            project_dir=project,
            config=ArcanConfig(provider=provider, model=model, base_url=base_url, **config),
            env=KEYS,
            home=project / "home",
            checkpoints=False,
        )
    )


async def _turn(core: CoreDaemon, prompt: str = "go") -> list[Event]:
    events = core.subscribe()
    core.submit(SubmitPrompt(text=prompt))
    seen = await collect_turn(core, events)
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    return seen


async def _close(core: CoreDaemon) -> None:
    core.submit(Shutdown())
    await core.wait_closed()


# -- the operation on each wire -------------------------------------------------------------


async def test_anthropic_effort_sets_and_clears_the_thinking_budget(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    server.enqueue(Reply(text="one"), Reply(text="two"), Reply(text="three"))
    core = await _core(tmp_path, server, "anthropic", "claude-sonnet-4-5")
    await _turn(core)
    assert "thinking" not in server.requests[0].json  # nothing configured: no thinking
    events = core.subscribe()
    core.submit(SetReasoning(effort="high", reason="test"))
    await _turn(core)
    body = server.requests[1].json
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 32_000}
    assert body["max_tokens"] > 32_000
    changed = [e.msg async for e in _until(events, ReasoningChanged)]
    assert changed[-1] == ReasoningChanged(effort="high", applies=True, reason="test")
    core.submit(SetReasoning(effort="off"))
    await _turn(core)
    assert "thinking" not in server.requests[2].json
    await _close(core)


async def _until(events: AsyncIterator[Any], kind: type[object]) -> AsyncIterator[Any]:
    async for event in events:
        yield event
        if isinstance(event.msg, kind):
            return


async def test_responses_effort_reaches_reasoning_effort(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    server.enqueue(Reply(text="one"), Reply(text="two"))
    core = await _core(tmp_path, server, "openai", "gpt-5", reasoning_effort="medium")
    await _turn(core)
    # The configured effort is the start value.
    assert server.requests[0].json["reasoning"]["effort"] == "medium"
    core.submit(SetReasoning(effort="off"))
    await _turn(core)
    # A reasoning model cannot stop reasoning: "off" asks for the least every one accepts.
    assert server.requests[1].json["reasoning"]["effort"] == "low"
    assert "thinking" not in server.requests[1].json
    await _close(core)


async def test_chat_completions_effort_only_for_a_reasoning_model(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    server.enqueue(Reply(text="one"), Reply(text="two"))
    core = await _core(tmp_path, server, "openai-chat", "o4-mini")
    core.submit(SetReasoning(effort="minimal"))
    await _turn(core)
    assert server.requests[0].json["reasoning_effort"] == "minimal"
    await _close(core)
    plain = await _core(tmp_path, server, "openai-chat", "gpt-4.1")
    events = plain.subscribe()
    plain.submit(SetReasoning(effort="high"))
    seen = await _turn(plain)
    # Sent to a model that does not reason, the field is a 400: it is left out, and said so.
    assert "reasoning_effort" not in server.requests[1].json
    history = [e async for e in _until(events, TurnFinished)]
    assert of_type(history, ReasoningChanged) == [ReasoningChanged(effort="high", applies=False)]
    assert any("does not reason" in w.message for w in of_type(history + seen, WarningEvent))
    await _close(plain)


async def test_effort_set_mid_task_reaches_the_next_step(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    # The approval holds the task between its two steps: the operation lands there for certain.
    server.enqueue(
        Reply(tool_calls=(ToolCall("write", {"path": "x.txt", "content": "x"}, id="w1"),)),
        Reply(text="written"),
    )
    core = await _core(tmp_path, server, "anthropic", "claude-sonnet-4-5", reasoning_effort="low")
    events = core.subscribe()
    core.submit(SubmitPrompt(text="write x.txt"))
    async for event in events:
        if isinstance(event.msg, ToolCallAwaitingApproval):
            core.submit(SetReasoning(effort="medium"))
            core.submit(AnswerApproval(call_id="w1", decision="allow"))
        if isinstance(event.msg, TurnFinished):
            break
    first, second = (request.json for request in server.requests)
    assert first["thinking"]["budget_tokens"] == 4_000
    assert second["thinking"]["budget_tokens"] == 10_000
    await _close(core)


# -- the mapping ------------------------------------------------------------------------------


def test_knobs_follow_the_configured_budget_until_an_effort_is_set() -> None:
    claude = model_info("anthropic", "claude-sonnet-4-5")
    assert reasoning_knobs(RequestSettings(thinking_budget=5000), claude) == (5000, None)
    assert reasoning_knobs(
        RequestSettings(thinking_budget=5000, reasoning_effort="off"), claude
    ) == (None, "low")
    assert reasoning_knobs(RequestSettings(reasoning_effort="medium"), claude) == (
        10_000,
        "medium",
    )


def test_budget_stays_under_the_models_output_limit() -> None:
    small = ModelInfo(
        id="m", provider="anthropic", max_output_tokens=16_000, supports_thinking=True
    )
    budget, _ = reasoning_knobs(RequestSettings(reasoning_effort="high"), small)
    assert budget == 16_000 - 1024
    tiny = ModelInfo(id="m", provider="anthropic", max_output_tokens=1500, supports_thinking=True)
    assert reasoning_knobs(RequestSettings(reasoning_effort="high"), tiny) == (None, "high")


def test_every_effort_has_knobs_and_a_model_override_can_declare_reasoning() -> None:
    efforts = set(TypeAdapter(SetReasoning).json_schema()["properties"]["effort"]["enum"])
    assert efforts == set(THINKING_BUDGETS)
    local = model_info("local", "qwen3", {"qwen3": ModelOverride(supports_thinking=True)})
    assert reasoning_knobs(RequestSettings(reasoning_effort="high"), local)[1] == "high"
    assert reasoning_knobs(RequestSettings(reasoning_effort="high"), model_info("local", "x")) == (
        None,
        None,
    )


def test_set_reasoning_round_trips_as_an_operation() -> None:
    adapter: TypeAdapter[Operation] = TypeAdapter(Operation)
    op = SetReasoning(effort="minimal", reason="/effort minimal")
    assert adapter.validate_json(adapter.dump_json(op)) == op


async def test_exec_effort_flag_reaches_the_request(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    server.enqueue(Reply(text="done"))
    project = tmp_path / "project"
    project.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCAN_", "OPENAI_"))}
    env |= {
        "OPENAI_API_KEY": "test-key",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "HOME": str(tmp_path / "home"),
    }
    command = "from arcan_tui.cli import entry; entry()"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", command, "exec", "-C", str(project)),
        *("--provider", "openai", "--model", "gpt-5", "--base-url", server.openai_base_url),
        *("--effort", "minimal", "say done"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == "done"
    assert server.requests[0].json["reasoning"]["effort"] == "minimal"


async def test_a_resumed_session_keeps_its_effort(
    tmp_path: Path, server: LoopbackModelServer
) -> None:
    server.enqueue(Reply(text="one"), Reply(text="two"))
    core = await _core(tmp_path, server, "anthropic", "claude-sonnet-4-5")
    core.submit(SetReasoning(effort="medium"))
    await _turn(core)
    session_id = core.session_id
    await _close(core)
    base_url = server.anthropic_base_url
    resumed = await open_core(
        CoreOptions(
            project_dir=tmp_path,
            config=ArcanConfig(provider="anthropic", model="claude-sonnet-4-5", base_url=base_url),
            resume=session_id,
            env=KEYS,
            home=tmp_path / "home",
            checkpoints=False,
        )
    )
    await _turn(resumed)
    assert server.requests[-1].json["thinking"]["budget_tokens"] == 10_000
    await _close(resumed)


async def test_line_mode_effort_command(tmp_path: Path) -> None:
    from prompt_toolkit.input import create_pipe_input  # noqa: PLC0415

    from tests.test_shell_session import FakeCore, FakeHost, finish, make_shell  # noqa: PLC0415

    def answer(core: FakeCore, op: SetReasoning) -> None:
        core.emit(ReasoningChanged(effort=op.effort, applies=op.effort != "high"))

    core = FakeCore(reactions={"set_reasoning": answer})
    with create_pipe_input() as pipe:
        shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
        task = asyncio.create_task(shell.run())
        pipe.send_text("/effort low\r")
        await out.wait_for("effort: low")
        pipe.send_text("/effort high\r")
        await out.wait_for("effort: high (this model does not reason)")
        pipe.send_text("/effort max\r")
        await out.wait_for("usage: /effort off|minimal|low|medium|high")
        pipe.send_text("/quit\r")
        await finish(task)
    assert core.ops_of(SetReasoning) == [
        SetReasoning(effort="low", reason="/effort low"),
        SetReasoning(effort="high", reason="/effort high"),
    ]
