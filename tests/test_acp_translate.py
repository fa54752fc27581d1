"""The ACP mapping without a connection: diffs, permissions, prompts, events and history."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("acp")

from acp.schema import (
    AgentMessageChunk,
    AgentPlanUpdate,
    AgentThoughtChunk,
    ContentToolCallContent,
    CurrentModeUpdate,
    EmbeddedResourceContentBlock,
    FileEditToolCallContent,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
    ToolCallProgress,
    ToolCallStart,
    UserMessageChunk,
)

from arcan_core.acp.diffs import parse_unified_diff
from arcan_core.acp.translate import (
    EventTranslator,
    diff_contents,
    permission_options,
    prompt_to_arcan,
    replay_messages,
)
from arcan_core.protocol.events import (
    ApprovalRequest,
    ControllerDecision,
    ModeChanged,
    SensorReading,
    TextDelta,
    ThinkingDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallOutput,
    ToolCallStarted,
    ToolDisplay,
    TurnStarted,
)
from arcan_core.protocol.messages import (
    Message,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)

if TYPE_CHECKING:
    from pathlib import Path


def _unified(before: str, after: str, path: str = "x.txt") -> str:
    # The same convention as the edit tools' own diffs.
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


_texts = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "tail", "x y\n"]), max_size=14).map(
    "".join
)


@given(_texts, _texts)
def test_a_diff_applies_forward_and_in_reverse(before: str, after: str) -> None:
    diff = _unified(before, after)
    if not diff:
        return
    (patch,) = parse_unified_diff(diff)
    assert patch.path == "x.txt"
    assert patch.apply(before) == after
    assert patch.apply(after, reverse=True) == before


def test_a_diff_that_does_not_fit_gives_none() -> None:
    (patch,) = parse_unified_diff(_unified("one\ntwo\n", "one\nTWO\n"))
    assert patch.apply("something else\n") is None


def test_finished_edit_becomes_a_whole_file_diff(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 2\ny = 3\n", encoding="utf-8")
    diff = _unified("x = 1\ny = 3\n", "x = 2\ny = 3\n", "app.py")
    translator = EventTranslator(tmp_path, {"edit": "edit"})
    (start,) = translator.updates(ToolCallStarted(call_id="c1", name="edit"))
    assert isinstance(start, ToolCallStart)
    assert (start.kind, start.status) == ("edit", "pending")
    (update,) = translator.updates(
        ToolCallFinished(
            call_id="c1",
            name="edit",
            input={"path": "app.py", "old": "x = 1", "new": "x = 2"},
            result="edited app.py",
            display=ToolDisplay(kind="diff", diff=diff),
        )
    )
    assert isinstance(update, ToolCallProgress)
    assert update.status == "completed"
    assert update.title == "edit app.py"
    (content,) = update.content or []
    assert isinstance(content, FileEditToolCallContent)
    assert content.path == str(tmp_path / "app.py")
    assert (content.old_text, content.new_text) == ("x = 1\ny = 3\n", "x = 2\ny = 3\n")
    assert [loc.path for loc in update.locations or []] == [str(tmp_path / "app.py")]


def test_a_new_file_has_no_old_text_and_a_misfit_falls_back_to_text(tmp_path: Path) -> None:
    (tmp_path / "new.txt").write_text("hello\n", encoding="utf-8")
    new_file = "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\n"
    (block,) = diff_contents(tmp_path, new_file, applied=True)
    assert isinstance(block, FileEditToolCallContent)
    assert (block.old_text, block.new_text) == (None, "hello\n")
    (text,) = diff_contents(tmp_path, _unified("a\n", "b\n", "new.txt"), applied=True)
    assert isinstance(text, ContentToolCallContent)


def test_approval_shows_the_change_before_it_is_made(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("old\n", encoding="utf-8")
    request = ApprovalRequest(
        tool="edit",
        summary="edit f.txt",
        preview=_unified("old\n", "new\n", "f.txt"),
        preview_kind="diff",
        cwd=str(tmp_path),
        reason="ask mode",
    )
    call = EventTranslator(tmp_path, {"edit": "edit"}).approval_call(
        ToolCallAwaitingApproval(
            call_id="c9", name="edit", input={"path": "f.txt"}, request=request
        )
    )
    assert (call.title, call.kind, call.status) == ("edit f.txt", "edit", "pending")
    (block,) = call.content or []
    assert isinstance(block, FileEditToolCallContent)
    assert (block.old_text, block.new_text) == ("old\n", "new\n")


def test_permission_options_map_onto_scopes() -> None:
    request = ApprovalRequest(
        tool="bash",
        summary="bash git push",
        preview="git push",
        preview_kind="command",
        cwd="/w",
        reason="ask mode",
        scopes=("once", "session", "project", "pattern"),
        suggested_pattern="bash(git push*)",
    )
    options, answers = permission_options("c1", request)
    assert [(o.option_id, o.kind) for o in options] == [
        ("allow_once", "allow_once"),
        ("allow_session", "allow_always"),
        ("allow_project", "allow_always"),
        ("allow_pattern", "allow_always"),
        ("reject", "reject_once"),
    ]
    assert options[3].name == "Always allow bash(git push*)"
    assert (answers["allow_once"].decision, answers["allow_once"].scope) == ("allow", "once")
    assert answers["allow_project"].scope == "project"
    assert answers["allow_pattern"].pattern == "bash(git push*)"
    assert answers["reject"].decision == "deny"
    assert {answer.call_id for answer in answers.values()} == {"c1"}

    narrow = request.model_copy(update={"scopes": ("once", "pattern"), "suggested_pattern": None})
    options, _ = permission_options("c2", narrow)
    assert [o.option_id for o in options] == ["allow_once", "reject"]


def test_prompt_blocks_become_text_and_images() -> None:
    text, images = prompt_to_arcan(
        [
            TextContentBlock(type="text", text="fix it"),
            ResourceContentBlock(type="resource_link", uri="file:///w/a.py", name="a.py"),
            EmbeddedResourceContentBlock(
                type="resource",
                resource=TextResourceContents(uri="file:///w/b.py", text="print(1)"),
            ),
            ImageContentBlock(type="image", mime_type="image/png", data="aGk="),
        ]
    )
    assert text == 'fix it\n\n@file:///w/a.py\n\n<file uri="file:///w/b.py">\nprint(1)\n</file>'
    assert [(image.media_type, image.data) for image in images] == [("image/png", "aGk=")]


def test_stream_mode_and_harness_events(tmp_path: Path) -> None:
    translator = EventTranslator(tmp_path, {})
    (text,) = translator.updates(TextDelta(text="hi"))
    (thought,) = translator.updates(ThinkingDelta(text="hmm"))
    assert isinstance(text, AgentMessageChunk)
    assert isinstance(thought, AgentThoughtChunk)
    (mode,) = translator.updates(ModeChanged(mode="auto-edit"))
    assert isinstance(mode, CurrentModeUpdate)
    assert mode.current_mode_id == "auto-edit"
    assert translator.updates(TurnStarted(turn_id="t", prompt="p")) == []

    translator.updates(
        SensorReading(sensor="pytest", setpoint="tests", status="unmet", value="2 fail")
    )
    (plan,) = translator.updates(
        SensorReading(sensor="ruff", setpoint="lint", status="met", met=True, value="0")
    )
    assert isinstance(plan, AgentPlanUpdate)
    assert [(e.content, e.status) for e in plan.entries] == [
        ("tests: 2 fail (pytest, unmet)", "pending"),
        ("lint: 0 (ruff, met)", "completed"),
    ]
    (thinking,) = translator.updates(
        ControllerDecision(mode="verify", rules=("edited",), rationale="files changed")
    )
    assert isinstance(thinking, AgentThoughtChunk)
    (stop,) = translator.updates(
        ControllerDecision(mode="stop", rationale="all green", stop_reason="completed")
    )
    assert isinstance(stop, AgentMessageChunk)
    assert isinstance(stop.content, TextContentBlock)
    assert "all green" in stop.content.text


def test_history_replays_as_user_agent_and_tool_updates(tmp_path: Path) -> None:
    messages = [
        Message(role="user", content=(TextBlock(text="read a.py"),)),
        Message(
            role="assistant",
            content=(
                TextBlock(text="Reading."),
                ToolUseBlock(id="t1", name="read", input={"path": "a.py"}),
            ),
        ),
        Message(role="user", content=(ToolResultBlock(tool_use_id="t1", content="1: x"),)),
        Message(role="assistant", content=(TextBlock(text="It sets x."),)),
    ]
    updates = replay_messages(messages, tmp_path, {"read": "read"})
    assert [type(u) for u in updates] == [
        UserMessageChunk,
        AgentMessageChunk,
        ToolCallStart,
        AgentMessageChunk,
    ]
    tool = updates[2]
    assert isinstance(tool, ToolCallStart)
    assert (tool.title, tool.kind, tool.status) == ("read a.py", "read", "completed")


def test_live_output_is_sent_as_a_bounded_tail_in_steps(tmp_path: Path) -> None:
    translator = EventTranslator(tmp_path, {"bash": "execute"})
    sent: list[ToolCallProgress] = []
    for _ in range(100):  # 100 chunks of 100 characters: 10 000 in all
        for update in translator.updates(ToolCallOutput(call_id="c1", chunk="x" * 99 + "\n")):
            assert isinstance(update, ToolCallProgress)
            sent.append(update)
    # The first chunk, then one update per 1000 characters: linear, not one per chunk.
    assert len(sent) == 11
    assert all(update.status == "in_progress" for update in sent)
    last = sent[-1].content or []
    assert isinstance(last[0], ContentToolCallContent)
    assert isinstance(last[0].content, TextContentBlock)
    assert len(last[0].content.text) <= 4000 + len("```\n\n```")
