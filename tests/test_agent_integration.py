"""Integration of the core with the real tool system, the session store and the providers."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

import pytest

from arcan_core.agent.session import open_core
from arcan_core.config.model import ArcanConfig, SandboxConfig
from arcan_core.errors import SessionLockedError
from arcan_core.protocol.events import (
    SessionSaved,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    TurnFinished,
)
from arcan_core.protocol.operations import (
    AnswerApproval,
    SetMode,
    SetModel,
    Shutdown,
    SubmitPrompt,
)
from arcan_core.store import latest_session, list_sessions, load_session, rebuild
from tests.agent_support import collect_turn, of_type, options

if TYPE_CHECKING:
    from pathlib import Path


async def test_each_call_that_needs_approval_is_asked_once(tmp_path: Path) -> None:
    calls = [
        {"name": "write", "args": {"path": f"{n}.txt", "content": n}, "id": f"w_{n}"}
        for n in ("a", "b")
    ]
    steps = [{"tool_calls": calls}, {"text": "done"}]
    core = await open_core(options(tmp_path, steps).replace(tools=None))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="write two files"))
    asked: list[str] = []
    async for event in events:
        if isinstance(event.msg, ToolCallAwaitingApproval):
            asked.append(event.msg.call_id)
            core.submit(AnswerApproval(call_id=event.msg.call_id, decision="allow"))
        if isinstance(event.msg, ToolCallFinished):
            assert not event.msg.is_error, event.msg.result
        if isinstance(event.msg, TurnFinished):
            break
    assert asked == ["w_a", "w_b"]
    assert (tmp_path / "a.txt").read_text() == "a"
    assert (tmp_path / "b.txt").read_text() == "b"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_the_sandbox_config_reaches_the_shell(tmp_path: Path) -> None:
    # full-auto runs the shell without asking only inside the sandbox; turned off in the config,
    # the call must ask, and a headless core denies it naming the config as the reason.
    steps = [
        {"tool_calls": [{"name": "bash", "args": {"command": "echo hi"}, "id": "b1"}]},
        {"text": "done"},
    ]
    config = ArcanConfig(
        provider="scripted", mode="full-auto", sandbox=SandboxConfig(enabled=False)
    )
    opts = options(tmp_path, steps).replace(tools=None, config=config, interactive=False)
    core = await open_core(opts)
    events = core.subscribe()
    core.submit(SubmitPrompt(text="say hi"))
    [finished] = of_type(await collect_turn(core, events), ToolCallFinished)
    assert finished.denied
    assert "sandbox.enabled = false" in finished.result
    core.submit(Shutdown())
    await core.wait_closed()


async def test_the_shell_starts_from_the_options_env(tmp_path: Path) -> None:
    steps = [
        {"tool_calls": [{"name": "bash", "args": {"command": 'echo "[$ARCAN_MARK]"'}, "id": "b1"}]},
        {"text": "done"},
    ]
    env = {"PATH": os.environ["PATH"], "ARCAN_MARK": "from-options"}
    core = await open_core(options(tmp_path, steps).replace(tools=None, env=env))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="echo the mark"))
    seen = []
    async for event in events:
        seen.append(event)
        if isinstance(event.msg, ToolCallAwaitingApproval):
            core.submit(AnswerApproval(call_id=event.msg.call_id, decision="allow"))
        if isinstance(event.msg, TurnFinished):
            break
    [finished] = of_type(seen, ToolCallFinished)
    assert "[from-options]" in finished.result
    core.submit(Shutdown())
    await core.wait_closed()


async def test_a_core_closed_without_a_prompt_leaves_no_session(tmp_path: Path) -> None:
    first = await open_core(options(tmp_path, [{"text": "one"}]))
    events = first.subscribe()
    first.submit(SubmitPrompt(text="real work"))
    await collect_turn(first, events)
    first.submit(Shutdown())
    await first.wait_closed()
    # A front-end opened and closed without a prompt (a model change is not a task).
    idle = await open_core(options(tmp_path, []))
    idle.submit(SetModel(model="scripted-demo-2"))
    idle.submit(Shutdown())
    await idle.wait_closed()
    assert [s.id for s in list_sessions(tmp_path)] == [first.session_id]
    assert latest_session(tmp_path) == first.session_id
    resumed = await open_core(options(tmp_path, [], resume="continue"))
    assert resumed.session_id == first.session_id
    resumed.submit(Shutdown())
    await resumed.wait_closed()


async def test_the_log_is_created_and_locked_at_the_first_task(tmp_path: Path) -> None:
    core = await open_core(options(tmp_path, [{"text": "done"}]))
    log = tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl"
    assert not log.exists()
    events = core.subscribe()
    core.submit(SetMode(mode="auto-edit"))
    core.submit(SubmitPrompt(text="go"))
    await collect_turn(core, events)
    assert log.exists()
    with pytest.raises(SessionLockedError):
        await open_core(options(tmp_path, [], resume=core.session_id))
    core.submit(Shutdown())
    await core.wait_closed()
    loaded = load_session(log)
    kinds = [e.msg.type for e in loaded.events]
    # The mode change held before the task is in the log, in order, and nothing is lost.
    assert kinds.index("mode_changed") < kinds.index("turn_started")
    assert [e.seq for e in loaded.events] == sorted(e.seq for e in loaded.events)
    assert rebuild(loaded.header, loaded.events).mode == "auto-edit"


async def test_session_saved_follows_each_finished_task(tmp_path: Path) -> None:
    core = await open_core(options(tmp_path, [{"text": "one"}, {"text": "two"}]))
    events = core.subscribe()
    saved: list[str] = []
    kinds: list[str] = []
    for prompt in ("first", "second"):
        core.submit(SubmitPrompt(text=prompt))
        async with asyncio.timeout(30):  # a guard against hanging if none comes, not a wait
            async for event in events:
                kinds.append(event.msg.type)
                if isinstance(event.msg, SessionSaved):
                    saved.append(event.msg.path)
                    break
    log = tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl"
    assert saved == [str(log), str(log)]
    # Once per task, after its end, and never per delta.
    assert kinds.count("session_saved") == 2
    assert kinds.index("session_saved") > kinds.index("turn_finished")
    core.submit(Shutdown())
    await core.wait_closed()
    # The notice reports on the log; it is not a record in it.
    assert all(e.msg.type != "session_saved" for e in load_session(log).events)


async def test_an_unsaved_core_never_says_saved(tmp_path: Path) -> None:
    core = await open_core(options(tmp_path, [{"text": "one"}], persist=False))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="first"))
    await collect_turn(core, events)
    core.submit(Shutdown())
    rest = [event.msg async for event in events]
    assert not any(isinstance(m, SessionSaved) for m in rest)
    assert not (tmp_path / ".arcan" / "sessions").exists() or not list(
        (tmp_path / ".arcan" / "sessions").glob("*.jsonl")
    )
