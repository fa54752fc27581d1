"""A live reply is drawn a line at a time: a few words wait, a finished line or reply does not."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from arcan_core.protocol.events import TextDelta, TurnStarted
from arcan_tui.widgets import transcript as transcript_module
from arcan_tui.widgets.blocks import LINE_WAIT_S
from tests.test_tui_streaming import SIZE, _assistant_block
from tests.tui_support import ScriptedCore, make_app, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


async def test_new_text_is_worth_a_frame_when_a_line_completes_or_waited(
    tmp_path: Path,
) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="go"), TextDelta(text="Start. "))
        await settle(app, pilot)
        await app.chat.transcript.flush_now()
        block = _assistant_block(app)
        item = block.item
        drawn_at = asyncio.get_running_loop().time()
        block._synced_at = drawn_at

        item.text += "a few words"
        assert not block.worth_a_frame(drawn_at + 0.1)  # part of a line: waits
        assert block.worth_a_frame(drawn_at + LINE_WAIT_S + 0.01)  # but not for ever
        item.text += " and the end of it.\n"
        assert block.worth_a_frame(drawn_at + 0.1)  # a whole line
        item.text = item.text.rstrip("\n") + " more" * 40
        assert "\n" not in item.text[len("Start. ") :]
        assert block.worth_a_frame(drawn_at + 0.1)  # a screen line's worth
        item.live = False
        item.text = "Start. done"
        assert block.worth_a_frame(drawn_at)  # a finished reply: at once


async def test_a_few_words_are_drawn_by_a_later_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No timer flush of its own: the test runs the flushes the timer would.
    monkeypatch.setattr(transcript_module, "FLUSH_INTERVAL", 3600.0)
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="go"), TextDelta(text="Start. "))
        await settle(app, pilot)
        block = _assistant_block(app)
        item = block.item
        core.emit(TextDelta(text="a few words"))
        await wait_until(pilot, lambda: item.text.endswith("a few words"))
        transcript = app.chat.transcript
        block._synced_at = asyncio.get_running_loop().time()
        await transcript._flush()
        assert block.source == "Start. "  # kept back, still dirty
        assert id(item) in transcript._dirty
        block._synced_at -= LINE_WAIT_S
        await transcript._flush()
        assert block.source == "Start. a few words"
