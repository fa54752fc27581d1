"""Resume and fork: the conversation, meters and checkpoints come back; the source stays intact."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from arcan_core.agent.session import open_core
from arcan_core.config.model import ArcanConfig
from arcan_core.errors import SessionLockedError, SessionNotFoundError
from arcan_core.protocol.events import FilesRestored, ModeChanged
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.protocol.operations import Rewind, SetMode, Shutdown, SubmitPrompt, Undo
from arcan_core.store import load_session, rebuild
from tests.agent_support import FileTools, collect_turn, options

if TYPE_CHECKING:
    from pathlib import Path

AUTO = ArcanConfig(provider="scripted", mode="full-auto")


def _write(text: str) -> list[dict[str, object]]:
    return [
        {"tool_calls": [{"name": "write", "args": {"path": "f.txt", "text": text}}]},
        {"text": f"wrote {text}", "usage": {"input_tokens": 1000, "output_tokens": 10}},
    ]


async def _two_turn_session(tmp_path: Path) -> str:
    core = await open_core(
        options(
            tmp_path,
            [*_write("one"), *_write("two")],
            tools=FileTools(tmp_path),
            checkpoints=True,
            config=AUTO,
        )
    )
    events = core.subscribe()
    for prompt in ("first", "second"):
        core.submit(SubmitPrompt(text=prompt))
        await collect_turn(core, events)
    core.submit(SetMode(mode="auto-edit"))
    async for event in events:
        if isinstance(event.msg, ModeChanged):
            break
    core.submit(Shutdown())
    await core.wait_closed()
    return core.session_id


async def test_resume_restores_conversation_mode_and_meters(tmp_path: Path) -> None:
    session = await _two_turn_session(tmp_path)
    core = await open_core(options(tmp_path, [{"text": "third"}], resume="continue", config=AUTO))
    assert core.session_id == session
    state = core._state
    assert [m.text() for m in core.messages if m.role == "user" and m.text()] == [
        "first",
        "second",
    ]
    assert state.mode == "auto-edit"  # the session's own mode wins over the config's
    assert state.turns == 2
    assert state.session_cost_usd > 0
    events = core.subscribe()
    core.submit(SubmitPrompt(text="third"))
    seen = await collect_turn(core, events)
    # Sequence numbers go on from the log; turn ids do not repeat.
    assert seen[0].seq > 0
    assert seen[0].msg.type == "turn_started"
    assert seen[0].msg.turn_id == "t3"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_a_live_session_cannot_be_opened_twice(tmp_path: Path) -> None:
    core = await open_core(options(tmp_path, [{"text": "x"}]))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="hi"))  # a new session's log (and lock) exist from its first task
    await collect_turn(core, events)
    with pytest.raises(SessionLockedError):
        await open_core(options(tmp_path, [], resume=core.session_id))
    core.submit(Shutdown())
    await core.wait_closed()


async def test_continue_without_sessions_says_so(tmp_path: Path) -> None:
    with pytest.raises(SessionNotFoundError, match="no session to continue"):
        await open_core(options(tmp_path, [], resume="continue"))


async def test_replay_subscription_gives_the_past_records(tmp_path: Path) -> None:
    session = await _two_turn_session(tmp_path)
    core = await open_core(options(tmp_path, [], resume=session))
    replay = core.subscribe(replay=True)
    core.submit(Shutdown())
    seen = [event async for event in replay]
    kinds = [event.msg.type for event in seen]
    assert kinds.count("turn_started") == 2
    assert "text_delta" not in kinds
    await core.wait_closed()


async def test_fork_before_a_turn_copies_history_and_checkpoints(tmp_path: Path) -> None:
    session = await _two_turn_session(tmp_path)
    source_log = tmp_path / ".arcan" / "sessions" / f"{session}.jsonl"
    source_before = source_log.read_bytes()

    core = await open_core(
        options(
            tmp_path,
            [],
            tools=FileTools(tmp_path),
            resume=session,
            fork=True,
            fork_before="t2",
            checkpoints=True,
        )
    )
    assert core.session_id != session
    assert [m.text() for m in core.messages] == ["first", "", "", "wrote one"]
    events = core.subscribe()
    # The fork shares the first task's checkpoint. The file changed after that task ended (the
    # source's second task wrote it), so undo leaves it alone...
    core.submit(Undo())
    async for event in events:
        if isinstance(event.msg, WarningEvent):
            assert "left alone" in event.msg.message
            assert "f.txt" in event.msg.message
            break
    assert (tmp_path / "f.txt").read_text() == "two"
    # ...until the file is as that task left it; then undo restores it from the shared checkpoint.
    (tmp_path / "f.txt").write_text("one")
    core.submit(Undo())
    async for event in events:
        if isinstance(event.msg, WarningEvent | FilesRestored):
            assert isinstance(event.msg, FilesRestored), event.msg
            break
    assert not (tmp_path / "f.txt").exists()
    core.submit(Shutdown())
    await core.wait_closed()

    fork = load_session(tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl")
    assert fork.header.forked_from == session
    assert {event.session_id for event in fork.events} == {core.session_id}
    assert source_log.read_bytes() == source_before  # the source is untouched


async def test_rewind_conversation_and_files_goes_on_in_a_fork(tmp_path: Path) -> None:
    steps = [*_write("one"), *_write("two"), {"text": "a fresh second answer"}]
    core = await open_core(
        options(tmp_path, steps, tools=FileTools(tmp_path), checkpoints=True, config=AUTO)
    )
    events = core.subscribe()
    for prompt in ("first", "second"):
        core.submit(SubmitPrompt(text=prompt))
        await collect_turn(core, events)
    old = core.session_id
    old_log = tmp_path / ".arcan" / "sessions" / f"{old}.jsonl"
    before = old_log.read_bytes()

    core.submit(Rewind(turn_id="t2", files=True, conversation=True))
    restored = False
    async for event in events:
        if isinstance(event.msg, FilesRestored):
            restored = True
        if isinstance(event.msg, WarningEvent):
            assert "rewound to before t2" in event.msg.message
            break
    assert restored
    assert (tmp_path / "f.txt").read_text() == "one"
    assert core.session_id != old
    assert [m.text() for m in core.messages][-1] == "wrote one"
    core.submit(SubmitPrompt(text="second, again"))
    seen = await collect_turn(core, events)
    assert {event.session_id for event in seen} == {core.session_id}
    assert core.messages[-1].text() == "a fresh second answer"
    core.submit(Shutdown())
    await core.wait_closed()

    # The old session only gained the record of the file restore (done before the fork).
    after = old_log.read_bytes()
    assert after.startswith(before)
    added = [json.loads(line)["msg"]["type"] for line in after[len(before) :].splitlines()]
    assert added == ["files_restored"]
    fork = load_session(tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl")
    assert fork.header.forked_from == old
    texts = [m.text() for m in rebuild(fork.header, fork.events).messages]
    assert texts[0] == "first"
    assert "second" not in texts
    assert texts[-2:] == ["second, again", "a fresh second answer"]
