"""The transcript keeps following the conversation when arcan opens a tool block's output.

Textual's ``Collapsible`` scrolls itself into view whenever it opens or closes, and any scroll
releases the transcript's anchor; a diff opening as an edit finishes (or as a resumed session
mounts it) used to leave the view parked there while the reply went on below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.protocol.events import (
    MessageAppended,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolDisplay,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock
from tests.test_tui_app import DIFF
from tests.tui_support import ScriptedCore, make_app, screen_text, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.protocol.events import EventMsg
    from arcan_tui.app import ArcanApp

SIZE = (120, 40)
LONG = "".join(f"Paragraph {i}: the quick brown fox.\n\n- one\n- two\n\n" for i in range(15))


def _edit_then_reply() -> list[EventMsg]:
    # As the log holds a step that edits: the call in the assistant's message, its end, and the
    # result the model got (which touches the finished block again).
    return [
        TurnStarted(turn_id="t1", prompt="fix it"),
        ToolCallStarted(call_id="e1", name="edit"),
        MessageAppended(
            message=Message(
                role="assistant",
                content=(
                    TextBlock(text="I'll fix `x`."),
                    ToolUseBlock(id="e1", name="edit", input={"path": "a.py"}),
                ),
            )
        ),
        ToolCallFinished(
            call_id="e1",
            name="edit",
            input={"path": "a.py"},
            result="edited",
            display=ToolDisplay(kind="diff", diff=DIFF),
        ),
        MessageAppended(
            message=Message(
                role="user", content=(ToolResultBlock(tool_use_id="e1", content="edited"),)
            )
        ),
        MessageAppended(
            message=Message(
                role="assistant",
                content=(TextBlock(text="Fixed:\n\n```python\nx = 2\n```"),),
            )
        ),
        TurnFinished(turn_id="t1", stop_reason="end_turn"),
        TurnStarted(turn_id="t2", prompt="now explain"),
        MessageAppended(message=Message(role="assistant", content=(TextBlock(text=LONG),))),
        TurnFinished(turn_id="t2", stop_reason="end_turn"),
    ]


def _at_the_end(app: ArcanApp) -> bool:
    transcript = app.chat.transcript
    return transcript.max_scroll_y > 0 and transcript.scroll_y == transcript.max_scroll_y


async def test_a_resumed_session_opens_at_its_last_words(tmp_path: Path) -> None:
    core = ScriptedCore(history=_edit_then_reply())
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        # No hand-made flush (``settle``): the app alone must end up at the last words.
        await wait_until(pilot, lambda: _at_the_end(app) and app.chat.transcript.items != [])
        for _ in range(10):  # and stay there once the blocks' own refreshes have run
            await pilot.pause()
        assert _at_the_end(app)
        assert "Paragraph 14" in screen_text(app)
        assert "+x = 2" not in screen_text(app)  # the diff is far above, scrolled past


async def test_a_finished_edit_does_not_stop_the_view_following(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        first_turn = _edit_then_reply()[:7]  # the diff opens as the edit finishes
        assert isinstance(first_turn[-1], TurnFinished)
        core.emit(*first_turn)
        await settle(app, pilot)
        core.emit(TurnStarted(turn_id="t2", prompt="now explain"), TextDelta(text=LONG))
        await settle(app, pilot)
        await wait_until(pilot, lambda: "Paragraph 14" in screen_text(app))
        assert _at_the_end(app)
