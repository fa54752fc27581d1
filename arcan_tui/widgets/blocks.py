"""Transcript blocks: one widget per transcript item, each able to re-sync from its item.

The transcript calls ``sync()`` on a block when its item changed (at most every flush interval), so
a block renders from data and never from events. ``BLOCKS`` maps item types to block classes: a new
kind of item adds one block class and one registry entry.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static

from arcan_tui.transcript_data import (
    AssistantItem,
    Item,
    NoticeItem,
    ThinkingItem,
    ToolItem,
    UserItem,
)
from arcan_tui.widgets.render import clip_lines, render_diff, render_display
from arcan_tui.widgets.stream_markdown import STREAM_BLOCKS, QuietResize, shared_parser

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import ComposeResult
    from textual.widget import Widget

__all__ = [
    "BLOCKS",
    "AssistantBlock",
    "Block",
    "Fold",
    "NoticeBlock",
    "ThinkingBlock",
    "ToolBlock",
    "UserBlock",
    "build_block",
]


@runtime_checkable
class Block(Protocol):
    """A widget that shows one transcript item."""

    synced_version: int

    @property
    def item(self) -> Item:
        """The item shown."""

    async def sync(self) -> None:
        """Bring the widget up to date with its item."""


class UserBlock(Static):
    """A prompt the user sent; dimmed and tagged while queued."""

    DEFAULT_CSS = """
    UserBlock { padding: 0 1; margin: 1 0 0 0; border-left: thick $primary; background: $boost; }
    UserBlock.-queued { border-left: thick $warning; color: $text-muted; }
    """

    def __init__(self, item: UserItem) -> None:
        super().__init__(self._content(item), markup=False)
        self.item = item
        self.synced_version = item.version
        self.set_class(item.queued, "-queued")

    @staticmethod
    def _content(item: UserItem) -> Content:
        tags = [
            " (queued)" if item.queued else "",
            f" [{item.images} image(s)]" if item.images else "",
        ]
        return Content.assemble(item.text, ("".join(tags), "$text-muted italic"))

    async def sync(self) -> None:
        """Re-render the text and the queued tag."""
        item = self.item
        self.set_class(item.queued, "-queued")
        self.update(self._content(item))


LINE_WAIT_S = 0.3
"""The longest a live reply's incomplete line waits to be drawn."""


class AssistantBlock(Markdown, QuietResize):
    """The assistant's reply, rendered as Markdown while it streams.

    The transcript calls ``sync`` on a timer, so each ``Markdown.append`` carries every fragment
    that arrived since the last one: one append per token would starve the event loop and make an
    open code fence re-highlight per token. ``append`` re-parses only the last block and mounts
    only new blocks. Appends are awaited one after another, which does what ``MarkdownStream``
    does (join fragments while an append is in flight) and also tells when the last words are on
    screen; so nothing stays a live stream once the reply is finished. Blocks come from
    ``STREAM_BLOCKS``: the same look, fewer widgets and layout passes per frame.
    """

    DEFAULT_CSS = """
    AssistantBlock { margin: 1 0 0 0; padding: 0 1; layout: stream; }
    """

    BLOCKS = STREAM_BLOCKS
    BLANK: ClassVar[bool] = True
    """The reply's own cells are only background (its blocks draw the text), so Textual can skip
    rendering them; otherwise each frame that grows the reply re-renders every visible line of
    it, as its line cache goes with each change of height."""

    def __init__(self, item: AssistantItem) -> None:
        # A finished reply is parsed once at mount; a live one starts empty and grows by appends.
        super().__init__("" if item.live else item.text, parser_factory=shared_parser)
        self.item = item
        self.synced_version = -1 if item.live else item.version
        self._shown = "" if item.live else item.text
        """The text given to the widget so far."""
        self._sync_lock = asyncio.Lock()
        self._synced_at = 0.0
        """When the last sync appended (the event loop's clock)."""

    def worth_a_frame(self, now: float) -> bool:
        """Whether a live reply's new text should be drawn at this flush.

        Each frame of a growing reply re-composes the whole visible transcript, so a frame per
        flush for a few words is most of the TUI's CPU while a reply streams. New text is drawn
        when it completes a line (a newline, or a screen line's worth of characters) or has
        waited ``LINE_WAIT_S``; a finished reply is always drawn at once.
        """
        item = self.item
        if not item.live:
            return True
        pending = len(item.text) - len(self._shown)
        if pending <= 0:
            return True  # nothing to add (or a rewrite): cheap, and keeps the version current
        if now - self._synced_at >= LINE_WAIT_S:
            return True
        width = max(self.size.width - 2, 20)
        return pending >= width or "\n" in item.text[len(self._shown) :]

    async def sync(self) -> None:
        """Append what arrived since the last sync (or re-render if the text was rewritten)."""
        async with self._sync_lock:
            item = self.item
            self.synced_version = item.version
            text = item.text
            if not text.startswith(self._shown):
                # The record corrected the streamed text (a slow subscriber lost deltas).
                self._shown = text
                await self.update(text)
                return
            pending = text[len(self._shown) :]
            if pending:
                self._shown = text
                self._synced_at = asyncio.get_running_loop().time()
                await self.append(pending)


class Fold(Collapsible):
    """A ``Collapsible`` that scrolls itself into view only when the user opens or closes it.

    Textual's scrolls into view on every change of ``collapsed``, and scrolling releases the
    transcript's anchor: a tool block opening its diff as it finishes (or as a resumed session
    mounts it) would leave the view parked on that block while the conversation goes on below.
    Changes arcan makes go through ``show``, which skips the scroll.
    """

    _by_program = False

    def show(self, *, open_: bool) -> None:
        """Open or close without scrolling (arcan's decision, not the user's)."""
        self._by_program = True
        try:
            self.collapsed = not open_
        finally:
            self._by_program = False

    def _watch_collapsed(self, collapsed: bool) -> None:
        if not self._by_program:
            super()._watch_collapsed(collapsed)
            return
        self._update_collapsed(collapsed)
        self.post_message(self.Collapsed(self) if collapsed else self.Expanded(self))


class ThinkingBlock(Fold):
    """The model's reasoning, dimmed; open while it streams, folded once the reply starts."""

    DEFAULT_CSS = """
    ThinkingBlock { margin: 1 0 0 0; padding: 0; border: none; background: transparent; }
    ThinkingBlock > Contents { padding: 0 0 0 2; }
    ThinkingBlock Static { color: $text-muted; text-style: italic; }
    """

    MAX_SHOWN = 8_000
    """Characters shown; reasoning can be long and the log keeps all of it."""

    def __init__(self, item: ThinkingItem) -> None:
        self._body = Static(self._text(item), markup=False)
        super().__init__(self._body, title="Thinking", collapsed=not item.live)
        self.item = item
        self.synced_version = item.version

    def _text(self, item: ThinkingItem) -> str:
        text = item.text
        return text if len(text) <= self.MAX_SHOWN else "…" + text[-self.MAX_SHOWN :]

    async def sync(self) -> None:
        """Show the latest reasoning; fold when it is finished."""
        item = self.item
        self.synced_version = item.version
        self._body.update(self._text(item))
        if not item.live:
            self.show(open_=False)


_STATUS_ICONS: dict[str, tuple[str, str]] = {
    "streaming": ("…", "$text-muted"),
    "running": ("⟳", "$text-warning"),
    "awaiting": ("?", "$text-accent bold"),
    "done": ("✓", "$text-success"),
    "error": ("✗", "$text-error"),
    "denied": ("⊘", "$text-error"),
}


class ToolBlock(Vertical):
    """A tool call: a header line (status, tool, argument summary, time) and collapsible output.

    Edits show a coloured diff, shell calls stdout/stderr and the exit code, searches a short
    listing. While the call awaits approval the body shows the command or diff asked about.
    """

    DEFAULT_CSS = """
    ToolBlock { height: auto; margin: 1 0 0 0; padding: 0 1; border-left: outer $secondary; }
    ToolBlock.-awaiting { border-left: outer $accent; }
    ToolBlock.-error { border-left: outer $error; }
    ToolBlock > .tool-header { height: auto; }
    ToolBlock Collapsible { border: none; padding: 0; margin: 0; background: transparent; }
    ToolBlock Collapsible > Contents { padding: 0 0 0 2; }
    """

    EXPANDED_KINDS: ClassVar[frozenset[str]] = frozenset({"diff", "shell"})
    """Display kinds shown open by default; everything else starts folded."""

    def __init__(self, item: ToolItem) -> None:
        super().__init__()
        self.item = item
        self.synced_version = -1
        self._header = Static(classes="tool-header", markup=False)
        self._body = Static(markup=False)
        self._fold = Fold(self._body, title="output", collapsed=True)

    def compose(self) -> ComposeResult:
        """Header above the folded output."""
        yield self._header
        yield self._fold

    async def on_mount(self) -> None:
        """Render the item as it is at mount time."""
        await self.sync()

    def _header_content(self, item: ToolItem) -> Content:
        icon, style = _STATUS_ICONS[item.status]
        timing = f"  {item.duration_s:.1f}s" if item.status in ("done", "error") else ""
        summary = item.summary()
        return Content.assemble(
            (f"{icon} ", style),
            (item.name, "bold"),
            ("  " + summary if summary else "", ""),
            (timing, "$text-muted"),
            ("  awaiting approval" if item.status == "awaiting" else "", "$text-accent"),
        )

    def _body_content(self, item: ToolItem) -> tuple[Content | None, bool]:
        """Return the body and whether it should be open."""
        if item.status == "awaiting" and item.request is not None:
            preview = item.request.preview
            if item.request.preview_kind == "diff":
                return render_diff(preview), True
            return Content.styled(preview, "bold"), True
        if item.status in ("running", "streaming"):
            if not item.output:
                return None, False
            lines, _ = clip_lines("".join(item.output)[-8_000:], 30)
            return Content("\n".join(lines)), True
        body = render_display(item.display, item.result, is_error=item.status == "error")
        kind = item.display.kind if item.display is not None else "text"
        return body, kind in self.EXPANDED_KINDS or item.status == "error"

    async def sync(self) -> None:
        """Re-render header and body from the item."""
        item = self.item
        first = self.synced_version < 0
        self.synced_version = item.version
        self._header.update(self._header_content(item))
        self.set_class(item.status == "awaiting", "-awaiting")
        self.set_class(item.status in ("error", "denied"), "-error")
        body, open_ = self._body_content(item)
        self._fold.display = body is not None and bool(body.plain.strip())
        if body is not None:
            self._body.update(body)
        # Open the body when it first has something worth seeing; afterwards the user decides.
        if open_ and (first or item.status in ("awaiting", "error", "done")):
            self._fold.show(open_=True)
        elif first or item.status == "done":
            self._fold.show(open_=open_)


class NoticeBlock(Static):
    """A line from arcan itself: info, warning or error."""

    DEFAULT_CSS = """
    NoticeBlock { margin: 1 0 0 0; padding: 0 1; color: $text-muted; }
    NoticeBlock.-warning { color: $text-warning; }
    NoticeBlock.-error { color: $text-error; }
    """

    def __init__(self, item: NoticeItem) -> None:
        super().__init__(item.text, markup=False, classes=f"-{item.level}")
        self.item = item
        self.synced_version = item.version

    async def sync(self) -> None:
        """Re-render the text."""
        item = self.item
        self.synced_version = item.version
        self.update(item.text)


BLOCKS: dict[type[Item], Callable[[Any], Widget]] = {
    UserItem: UserBlock,
    AssistantItem: AssistantBlock,
    ThinkingItem: ThinkingBlock,
    ToolItem: ToolBlock,
    NoticeItem: NoticeBlock,
}
"""Item type -> the block class that shows it."""


def build_block(item: Item) -> Widget:
    """Return a new block widget for ``item``."""
    return BLOCKS[type(item)](item)
