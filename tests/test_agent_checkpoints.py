"""Checkpoints in a shadow git store: undo, refusal over human edits, rewind, resume."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from arcan_core.agent.checkpoints import Checkpoints
from arcan_core.agent.session import open_core
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import FilesRestored
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.protocol.operations import Rewind, Shutdown, SubmitPrompt, Undo
from tests.agent_support import FileTools, collect_turn, options

if TYPE_CHECKING:
    from pathlib import Path


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


async def test_snapshot_covers_untracked_not_ignored_and_leaves_user_repo_alone(
    tmp_path: Path,
) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "tracked.txt").write_text("v1")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    (tmp_path / "untracked.txt").write_text("u1")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.bin").write_text("ignored")
    status_before = _git(tmp_path, "status", "--porcelain")
    head_before = _git(tmp_path, "rev-parse", "HEAD")

    store = Checkpoints(tmp_path, tmp_path / ".arcan" / "checkpoints", "s1")
    await store.snapshot_before("t1")
    (tmp_path / "tracked.txt").write_text("v2")
    (tmp_path / "untracked.txt").write_text("u2")
    (tmp_path / "new.txt").write_text("n")
    (tmp_path / "build" / "out.bin").write_text("ignored 2")
    await store.snapshot_after("t1")

    result = await store.undo()
    assert result is not None
    assert sorted(result.restored) == ["new.txt", "tracked.txt", "untracked.txt"]
    assert (tmp_path / "tracked.txt").read_text() == "v1"
    assert (tmp_path / "untracked.txt").read_text() == "u1"
    assert not (tmp_path / "new.txt").exists()
    # Ignored files are not checkpointed, so undo leaves them as they are.
    assert (tmp_path / "build" / "out.bin").read_text() == "ignored 2"
    # The user's repository saw nothing: same HEAD, same status, no arcan refs.
    assert _git(tmp_path, "rev-parse", "HEAD") == head_before
    assert _git(tmp_path, "status", "--porcelain") == status_before
    assert "arcan" not in _git(tmp_path, "for-each-ref")
    # Nothing left to undo.
    assert await store.undo() is None


async def test_undo_refuses_files_the_human_changed_since(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a1")
    (tmp_path / "b.txt").write_text("b1")
    store = Checkpoints(tmp_path, tmp_path / ".arcan" / "checkpoints", "s1")
    await store.snapshot_before("t1")
    (tmp_path / "a.txt").write_text("a2")
    (tmp_path / "b.txt").write_text("b2")
    await store.snapshot_after("t1")
    (tmp_path / "b.txt").write_text("b3 by the human")
    result = await store.undo()
    assert result is not None
    assert result.restored == ("a.txt",)
    assert result.refused == ("b.txt",)
    assert (tmp_path / "a.txt").read_text() == "a1"
    assert (tmp_path / "b.txt").read_text() == "b3 by the human"


async def test_undo_and_rewind_through_the_core_survive_resume(tmp_path: Path) -> None:
    steps = [
        {"tool_calls": [{"name": "write", "args": {"path": "f.txt", "text": "one"}}]},
        {"text": "wrote one"},
        {"tool_calls": [{"name": "write", "args": {"path": "f.txt", "text": "two"}}]},
        {"text": "wrote two"},
    ]
    auto = ArcanConfig(provider="scripted", mode="full-auto")
    core = await open_core(
        options(tmp_path, steps, tools=FileTools(tmp_path), checkpoints=True, config=auto)
    )
    events = core.subscribe()
    for prompt in ("first", "second"):
        core.submit(SubmitPrompt(text=prompt))
        await collect_turn(core, events)
    assert (tmp_path / "f.txt").read_text() == "two"
    session = core.session_id
    core.submit(Shutdown())
    await core.wait_closed()

    # A new process resumes the session and undoes the last task from its checkpoint.
    core = await open_core(
        options(tmp_path, [], tools=FileTools(tmp_path), checkpoints=True, resume=session)
    )
    events = core.subscribe()
    core.submit(Undo())
    async for event in events:
        if isinstance(event.msg, FilesRestored):
            assert event.msg.paths == ("f.txt",)
            break
    assert (tmp_path / "f.txt").read_text() == "one"
    core.submit(Rewind(turn_id="t1", conversation=False))
    async for event in events:
        if isinstance(event.msg, FilesRestored):
            break
    assert not (tmp_path / "f.txt").exists()
    core.submit(Undo())
    async for event in events:
        if isinstance(event.msg, WarningEvent):
            assert "nothing to undo" in event.msg.message
            break
    core.submit(Shutdown())
    await core.wait_closed()
