"""The transcript view: items kept as data, a bounded window of them mounted as blocks.

Every mounted widget costs layout time on every frame, so only the newest ``window`` items are
mounted. Older items stay in ``items`` and come back with "load earlier" (a key or a click on the
banner at the top). Item changes are coalesced: ``touch`` marks an item dirty and a one-shot timer
syncs all dirty blocks every ``FLUSH_INTERVAL`` seconds, so a 200 tok/s stream costs at most 10
renders a second, and an idle transcript runs no timer at all. A live reply is drawn a line at a
time (``AssistantBlock.worth_a_frame``): a few words wait for the rest of their line, at most
``LINE_WAIT_S``; a finished item is drawn at once.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from arcan_tui.widgets.blocks import AssistantBlock, Block, build_block
from arcan_tui.widgets.stream_markdown import QuietResize

if TYPE_CHECKING:
    from textual.events import Click
    from textual.geometry import Size
    from textual.timer import Timer
    from textual.widget import Widget

    from arcan_tui.transcript_data import Item

__all__ = ["EarlierBanner", "Transcript"]

FLUSH_INTERVAL = 0.1
"""Seconds between syncs of changed blocks while something streams (50-100 ms is the sweet spot)."""


def _as_block(widget: object) -> Block | None:
    return widget if isinstance(widget, Block) else None


class EarlierBanner(Static):
    """The line at the top saying how many older items are not mounted."""

    DEFAULT_CSS = """
    EarlierBanner { color: $text-muted; text-style: italic; padding: 0 1; }
    """

    class Pressed(Message):
        """The user asked for earlier items."""

    def on_click(self, event: Click) -> None:
        """Ask the transcript for earlier items."""
        event.stop()
        self.post_message(self.Pressed())


class Transcript(VerticalScroll, QuietResize):
    """The conversation: the newest items mounted, all of them kept as data."""

    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; layout: stream; }
    """

    BLANK: ClassVar[bool] = True
    """Only background of its own (no border): Textual skips rendering its cells per frame."""

    WINDOW: ClassVar[int] = 60
    """Items mounted at most (live items are never unmounted)."""

    LOAD_BATCH: ClassVar[int] = 20
    """Items re-mounted per "load earlier"."""

    def __init__(self, *, window: int | None = None, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, can_focus=False)
        self.items: list[Item] = []
        self.window = window or self.WINDOW
        self._blocks: dict[int, Widget] = {}
        """``id(item)`` -> its mounted block."""
        self._first_mounted = 0
        """Index in ``items`` of the oldest mounted item."""
        self._dirty: set[int] = set()
        self._flush_timer: Timer | None = None
        self._flush_queued = False
        """A flush is queued to run next (not waiting for the timer)."""
        self._sync_pending = False
        self._banner = EarlierBanner("")
        self._banner.display = False

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        bar = self._vertical_scrollbar
        if bar is not None and bar._repaint_required and bar.outer_size:
            # The layout that grew the transcript asked its scrollbar to repaint; Textual would
            # do that a frame later (about 30 ms after the text). Paint it in this frame, as
            # the compositor renders right after these size updates. A scrollbar that is only
            # appearing now has no size yet: Textual's next frame places and paints it.
            bar._repaint_required = False
            self.screen._compositor.update_widgets({bar})
        return resized

    def compose(self) -> list[Widget]:
        """Only the banner; blocks are mounted from data."""
        return [self._banner]

    def on_mount(self) -> None:
        """Follow new output until the user scrolls away."""
        self.anchor()

    # -- data ---------------------------------------------------------------------------------

    def add(self, item: Item) -> None:
        """Append an item; it is mounted at the next sync."""
        self.items.append(item)
        self._schedule_sync()

    def touch(self, item: Item) -> None:
        """Note that ``item`` changed; its block re-renders at the next flush.

        A live item waits for the flush timer, so a stream costs a render per interval, not per
        token. A finished item flushes at once: the last words of a reply are on screen as soon
        as the reply ends, not up to an interval later.
        """
        item.touch()
        self._dirty.add(id(item))
        if not item.live:
            self._flush_soon()
        elif self._flush_timer is None and not self._flush_queued:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._flush)

    def _flush_soon(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if not self._flush_queued:
            self._flush_queued = True
            self.call_later(self._flush)

    def clear_items(self) -> None:
        """Forget every item and unmount every block (``/clear``)."""
        self.items.clear()
        self._dirty.clear()
        blocks = list(self._blocks.values())
        self._blocks.clear()
        self._first_mounted = 0
        self._banner.display = False
        if blocks:
            self.remove_children(blocks)

    @property
    def mounted_count(self) -> int:
        """How many item blocks are mounted."""
        return len(self._blocks)

    def block_for(self, item: Item) -> Widget | None:
        """Return the mounted block of ``item``, if any."""
        return self._blocks.get(id(item))

    # -- mounting -----------------------------------------------------------------------------

    def _schedule_sync(self) -> None:
        if not self._sync_pending:
            self._sync_pending = True
            # Many items added in one go (a resumed session) cost one mount pass, not one each.
            self.call_later(self._sync)

    async def _sync(self) -> None:
        self._sync_pending = False
        last_mounted = self._first_mounted + len(self._blocks)
        new_items = self.items[last_mounted:]
        if not new_items:
            return
        if len(new_items) > self.window:
            # Everything mounted so far scrolls out of the window: start afresh at the tail.
            await self._unmount_all()
            self._first_mounted = len(self.items) - self.window
            new_items = self.items[self._first_mounted :]
        widgets = [build_block(item) for item in new_items]
        for item, widget in zip(new_items, widgets, strict=True):
            self._blocks[id(item)] = widget
        with self.app.batch_update():
            await self.mount_all(widgets)
            await self._prune()
        self._update_banner()
        # Items that changed between being built and being mounted catch up at the next flush.
        for item in new_items:
            block = _as_block(self._blocks.get(id(item)))
            if block is not None and block.synced_version != item.version:
                self.touch(item)

    async def _unmount_all(self) -> None:
        blocks = list(self._blocks.values())
        self._blocks.clear()
        if blocks:
            await self.remove_children(blocks)

    async def _prune(self) -> None:
        """Unmount the oldest finished blocks beyond the window."""
        doomed: list[Widget] = []
        while len(self._blocks) > self.window:
            item = self.items[self._first_mounted]
            if item.live:
                break
            block = self._blocks.pop(id(item), None)
            if block is not None:
                doomed.append(block)
            self._first_mounted += 1
        if doomed:
            await self.remove_children(doomed)

    async def load_earlier(self, count: int | None = None) -> int:
        """Mount up to ``count`` older items above the window; return how many were mounted."""
        count = count or self.LOAD_BATCH
        start = max(0, self._first_mounted - count)
        older = self.items[start : self._first_mounted]
        if not older:
            return 0
        widgets = [build_block(item) for item in older]
        for item, widget in zip(older, widgets, strict=True):
            self._blocks[id(item)] = widget
        self._first_mounted = start
        with self.app.batch_update():
            await self.mount_all(widgets, after=self._banner)
        self._update_banner()
        return len(older)

    def _update_banner(self) -> None:
        hidden = self._first_mounted
        self._banner.display = hidden > 0
        if hidden:
            self._banner.update(f"↑ {hidden} earlier items (PageUp at the top or click to show)")

    async def on_earlier_banner_pressed(self, event: EarlierBanner.Pressed) -> None:
        """Load a batch of earlier items."""
        event.stop()
        await self.load_earlier()

    # -- flushing -----------------------------------------------------------------------------

    async def _flush(self, *, force: bool = False) -> None:
        self._flush_timer = None
        self._flush_queued = False
        dirty, self._dirty = self._dirty, set()
        now = asyncio.get_running_loop().time()
        for key in dirty:
            block = _as_block(self._blocks.get(key))
            if block is None or block.synced_version == block.item.version:
                continue
            if not force and isinstance(block, AssistantBlock) and not block.worth_a_frame(now):
                # A few words of a line: kept for the next flush, drawn with the rest of it.
                self._dirty.add(key)
                continue
            await block.sync()
        if self._dirty and self._flush_timer is None and not self._flush_queued:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._flush)

    async def flush_now(self) -> None:
        """Sync every changed block at once (end of a stream, tests)."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
        if self._sync_pending:
            await self._sync()
        await self._flush(force=True)
