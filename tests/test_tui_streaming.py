"""Streaming replies: when text reaches the screen, how writes are batched, and what is drawn.

Speed is measured in ``benches/`` (``tui_whole_process``, ``bench_tui``); these tests pin the
behaviour the speed relies on: a burst of deltas is one ``Markdown.append``, the end of a reply
is on screen without waiting for the flush timer, and the cheaper list drawing gives the same
cells as Textual's own ``Markdown``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.app import App, ComposeResult
from textual.selection import Selection
from textual.widgets import Markdown

from arcan_core.protocol.events import MessageAppended, TextDelta, TurnFinished, TurnStarted
from arcan_core.protocol.messages import Message, TextBlock
from arcan_tui.transcript_data import AssistantItem
from arcan_tui.widgets import transcript as transcript_module
from arcan_tui.widgets.blocks import AssistantBlock
from arcan_tui.widgets.stream_markdown import FlatBulletList, FlatOrderedList
from tests.tui_support import ScriptedCore, make_app, screen_text, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot
    from textual.screen import Screen
    from textual.strip import Strip

    from arcan_tui.app import ArcanApp

SIZE = (100, 36)


def _assistant_block(app: ArcanApp) -> AssistantBlock:
    item = next(i for i in app.chat.transcript.items if isinstance(i, AssistantItem))
    block = app.chat.transcript.block_for(item)
    assert isinstance(block, AssistantBlock)
    return block


async def _pause(pilot: Pilot[None], rounds: int = 5) -> None:
    for _ in range(rounds):
        await pilot.pause()


async def test_end_of_reply_is_on_screen_without_waiting_for_the_flush_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the timer an hour long, only the flush at the end of the reply can show its last words.
    monkeypatch.setattr(transcript_module, "FLUSH_INTERVAL", 3600.0)
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="go"), TextDelta(text="first words "))
        await settle(app, pilot)  # flushes by hand, as a timer would have
        reply = "first words and the LAST-WORDS"
        core.emit(TextDelta(text="and the LAST-WORDS"))
        await _pause(pilot)
        assert "LAST-WORDS" not in screen_text(app)  # a live reply waits for the timer
        core.emit(
            MessageAppended(message=Message(role="assistant", content=(TextBlock(text=reply),))),
            TurnFinished(turn_id="t1", stop_reason="end_turn"),
        )
        await wait_until(pilot, lambda: "LAST-WORDS" in screen_text(app))
        assert _assistant_block(app).source == reply


async def test_a_burst_of_deltas_is_one_append(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="go"), TextDelta(text="start "))
        await settle(app, pilot)
        block = _assistant_block(app)
        appended: list[str] = []
        original = block.append

        def counting_append(markdown: str) -> object:
            appended.append(markdown)
            return original(markdown)

        block.append = counting_append  # type: ignore[method-assign,assignment]
        core.emit(*(TextDelta(text=f"word{i} ") for i in range(300)))
        await wait_until(pilot, lambda: block.source.endswith("word299 "))
        await _pause(pilot)
        assert appended == ["".join(f"word{i} " for i in range(300))]


async def test_a_growing_list_is_redrawn_in_place(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="go"), TextDelta(text="Steps:\n\n- one\n"))
        await settle(app, pilot)
        block = _assistant_block(app)
        lists = list(block.query(FlatBulletList))
        assert len(lists) == 1
        core.emit(TextDelta(text="- two\n- three\n"))
        await settle(app, pilot)
        assert list(block.query(FlatBulletList)) == lists  # the same widget, not a new one
        assert "• three" in screen_text(app)
        # One widget draws the list: no row, bullet and column widgets per item.
        assert not list(lists[0].children)


class _Doc(App[None]):
    def __init__(self, widget: Markdown) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def _cells(
    widget: Markdown, width: int, theme: str = "textual-dark"
) -> list[list[tuple[str, str]]]:
    """Every cell of the document as (character, style) at ``width``."""
    app = _Doc(widget)
    app.theme = theme
    async with app.run_test(size=(width, 40)) as pilot:
        await _pause(pilot)
        strips = app.screen._compositor.render_strips()
    rows: list[list[tuple[str, str]]] = []
    for strip in strips:
        row: list[tuple[str, str]] = []
        for segment in strip:
            # A space shows only its background; the colour of its (invisible) glyph is moot.
            style = segment.style
            for char in segment.text:
                fg = str(style.color) if style and char != " " else ""
                bg = str(style.bgcolor) if style else ""
                bold = bool(style and style.bold)
                row.append((char, f"{fg}/{bg}/{bold}"))
        rows.append(row)
    return rows


DOCUMENTS = [
    # Items long enough to wrap, with inline styles.
    (
        "Intro:\n\n- a `code` span and **bold** text in an item long enough to wrap onto the next"
        " line of the terminal\n- short\n- *third* item\n\nAfter the list.\n"
    ),
    # Numbers that change width are right-aligned; a list may start anywhere.
    "".join(f"{n}. item {n} with words enough to wrap when narrow\n" for n in range(8, 13)),
    # A nested list and a two-paragraph item keep Textual's own widgets.
    "- outer\n  - inner one\n  - inner two\n- next\n\n- loose item\n\n  second paragraph\n",
    "- \n- empty item above\n",
    # Not lists: a heading, a quote and a fence with a line too long for the width.
    (
        "# Title\n\n> quoted\n\n```python\ndef f(x):\n"
        "    return [x] * 100  # a comment long enough to overflow\n```\n"
    ),
]


@pytest.mark.parametrize(
    ("source", "theme"),
    [*((source, "textual-dark") for source in DOCUMENTS), (DOCUMENTS[1], "textual-light")],
)
async def test_reply_blocks_draw_the_same_cells_as_textual_markdown(
    source: str, theme: str
) -> None:
    item = AssistantItem(text=source)
    ours = await _cells(AssistantBlock(item), 44, theme)
    # Textual's Markdown, styled as the reply block is (margin and padding).
    stock = Markdown(source)
    stock.styles.margin = (1, 0, 0, 0)
    stock.styles.padding = (0, 1)
    stock.styles.layout = "stream"
    assert ours == await _cells(stock, 44, theme)


async def test_only_lists_of_single_paragraph_items_are_flat() -> None:
    app = _Doc(AssistantBlock(AssistantItem(text=DOCUMENTS[2] + "\n1. a\n2. b\n")))
    async with app.run_test(size=(60, 30)) as pilot:
        await _pause(pilot)
        flat = [w for w in app.query("*") if isinstance(w, FlatBulletList | FlatOrderedList)]
        kinds = {(type(w).__name__, w.flat) for w in flat}
        # The outer lists are not flat; the inner list and the numbered one are.
        assert ("FlatBulletList", False) in kinds
        assert ("FlatBulletList", True) in kinds
        assert ("FlatOrderedList", True) in kinds


class _Terminal:
    """What a terminal shows after the app's updates: the frames as Textual sends them."""

    def __init__(self, width: int, height: int) -> None:
        self.cells = [[("", "")] * width for _ in range(height)]

    def put(self, y: int, x: int, strip: Strip) -> None:
        for segment in strip:
            for char in segment.text:
                self.cells[y][x] = (char, str(segment.style))
                x += 1

    def apply(self, update: object) -> None:
        if isinstance(update, LayoutUpdate):
            for y, line in enumerate(update.strips, update.region.y):
                x = update.region.x
                for part in line:
                    self.put(y, x, part)
                    x += part.cell_length
            return
        assert isinstance(update, ChopsUpdate)
        # As ChopsUpdate.render_segments writes it, into cells instead of escape codes.
        for y, x1, x2 in update.spans:
            for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                whole = x2 > x >= x1 and end <= x2
                self.put(y, x, strip if whole else strip.crop(0, min(end, x2) - x))


async def test_every_frame_sent_while_streaming_leaves_the_full_screen(tmp_path: Path) -> None:
    # Frames repaint only what changed (the scrollbar is painted in the frame that moved it):
    # after each one, the terminal must show what a full repaint would.
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.chat.prompt.cursor_blink = False
        await _pause(pilot)
        terminal = _Terminal(*SIZE)  # starts as the screen is now
        for y, strip in enumerate(app.screen._compositor.render_strips()):
            terminal.put(y, 0, strip)
        original = app._display
        frames: list[bool] = []

        def display(screen: Screen[object], update: object) -> None:
            if update is not None and not app._batch_count:
                terminal.apply(update)
                full = _Terminal(*SIZE)
                for y, strip in enumerate(screen._compositor.render_strips()):
                    full.put(y, 0, strip)
                frames.append(terminal.cells == full.cells)
            original(screen, update)  # type: ignore[arg-type]

        app._display = display  # type: ignore[method-assign,assignment]
        core.emit(TurnStarted(turn_id="t1", prompt="go"))
        reply = "".join(
            f"Paragraph {n} of a reply long enough to scroll.\n\n- item `{n}`\n- another\n\n"
            for n in range(30)
        )
        for start in range(0, len(reply), 40):
            core.emit(TextDelta(text=reply[start : start + 40]))
            await pilot.pause(0.03)
        core.emit(
            MessageAppended(message=Message(role="assistant", content=(TextBlock(text=reply),))),
            TurnFinished(turn_id="t1", stop_reason="end_turn"),
        )
        await wait_until(pilot, lambda: _assistant_block(app).source == reply)
        await _pause(pilot, 10)
        assert "Paragraph 29" in screen_text(app)
        assert len(frames) > 10
        assert all(frames), f"{frames.count(False)} of {len(frames)} frames left stale cells"


async def test_a_flat_list_can_be_selected_as_drawn() -> None:
    source = "- first point\n- second point, long enough to wrap at this width\n"
    app = _Doc(AssistantBlock(AssistantItem(text=source)))
    async with app.run_test(size=(40, 12)) as pilot:
        await _pause(pilot)
        (flat,) = app.query(FlatBulletList)
        assert flat.flat
        selected = flat.get_selection(Selection(None, None))
        assert selected is not None
        assert selected[0].splitlines() == [
            "• first point",
            "• second point, long enough to wrap at",
            "  this width",
        ]
