"""A sub-agent's events (nested under its ``task`` call) in the TUI.

The core stamps every event of a sub-agent with the id of the ``task`` call that runs it. The TUI
must keep them out of the main transcript (they are another conversation), show the sub-agent's
tool calls as progress inside the task's block, and still ask its approvals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.protocol.events import (
    ApprovalRequest,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.operations import AnswerApproval
from arcan_tui.transcript_data import AssistantItem, ToolItem, UserItem
from tests.test_tui_app import SIZE, wait_armed
from tests.tui_support import ScriptedCore, make_app, screen_text, settle

if TYPE_CHECKING:
    from pathlib import Path


def _task_started(core: ScriptedCore) -> None:
    core.emit(
        TurnStarted(turn_id="t1", prompt="map the code"),
        ToolCallStarted(call_id="task1", name="task"),
        ToolCallArgumentsDelta(
            call_id="task1", fragment='{"description": "find parsers", "prompt": "look"}'
        ),
    )


async def test_nested_events_stay_inside_the_task_block(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        _task_started(core)
        core.emit_nested(
            "task1",
            TurnStarted(turn_id="task1.task", prompt="look"),
            TextDelta(text="SUB-AGENT THINKS ALOUD"),
            ToolCallStarted(call_id="n1", name="grep"),
            ToolCallFinished(call_id="n1", name="grep", input={"pattern": "def parse"}, result=""),
            ToolCallFinished(
                call_id="n2", name="read", input={"path": "missing.py"}, result="", is_error=True
            ),
            TurnFinished(turn_id="task1.task", stop_reason="end_turn"),
        )
        await settle(app, pilot)
        items = app.chat.transcript.items
        # Only the main prompt is a user item; the sub-agent's text is not a reply of the agent.
        assert [i.text for i in items if isinstance(i, UserItem)] == ["map the code"]
        assert not any(isinstance(i, AssistantItem) for i in items)
        assert "SUB-AGENT THINKS ALOUD" not in screen_text(app)
        # The sub-agent's calls are progress lines of the task's block, not blocks of their own.
        tools = [i for i in items if isinstance(i, ToolItem)]
        assert [t.call_id for t in tools] == ["task1"]
        progress = "".join(tools[0].output)
        assert "↳ grep" in progress
        assert "def parse" in progress
        assert "↳ read" in progress
        assert "(failed)" in progress
        # The sub-agent finishing does not end the parent's turn.
        assert app.chat.router is not None
        assert app.chat.router.busy


async def test_a_nested_approval_is_asked_and_answered(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        _task_started(core)
        core.emit_nested(
            "task1",
            ToolCallAwaitingApproval(
                call_id="n3",
                name="bash",
                input={"command": "make check"},
                request=ApprovalRequest(
                    tool="bash",
                    summary="make check",
                    preview="make check",
                    preview_kind="command",
                    cwd="/project",
                    reason="mode ask",
                ),
            ),
        )
        await settle(app, pilot)
        assert "Allow bash: make check?" in screen_text(app)
        await wait_armed(app, pilot)
        await pilot.press("y")
        await pilot.pause()
        assert core.ops[-1] == AnswerApproval(call_id="n3", decision="allow", scope="once")
