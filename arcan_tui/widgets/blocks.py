"""Transcript blocks: one widget per transcript item, each able to re-sync from its item.

The transcript calls ``sync()`` on a block when its item changed (at most every flush interval), so
a block renders from data and never from events. ``BLOCKS`` maps item types to block classes: a new
kind of item adds one block class and one registry entry.
"""

from __future__ import annotations

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

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import ComposeResult
    from textual.widget import Widget
    from textual.widgets._markdown import MarkdownStream

__all__ = [
    "BLOCKS",
    "AssistantBlock",
    "Block",
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


class AssistantBlock(Markdown):
    """The assistant's reply, streamed through a ``MarkdownStream`` while live.

    The transcript calls ``sync`` on a timer, so each stream write carries every fragment that
    arrived since the last one: one write per token would starve the event loop and make an open
    code fence re-highlight per token. When the item is finished the stream is stopped, so no
    finished message stays a live stream.
    """

    DEFAULT_CSS = """
    AssistantBlock { margin: 1 0 0 0; padding: 0 1; layout: stream; }
    """

    def __init__(self, item: AssistantItem) -> None:
        # A finished reply is parsed once at mount; a live one starts empty and streams.
        super().__init__("" if item.live else item.text)
        self.item = item
        self.synced_version = -1 if item.live else item.version
        self._written = 0 if item.live else len(item.text)
        self._stream: MarkdownStream | None = None

    async def sync(self) -> None:
        """Write what arrived since the last sync; stop the stream once the item is finished."""
        item = self.item
        self.synced_version = item.version
        if len(item.text) < self._written or not item.text.startswith(item.text[: self._written]):
            await self._restart(item.text)
            return
        pending = item.text[self._written :]
        if item.live:
            if pending:
                if self._stream is None:
                    self._stream = Markdown.get_stream(self)
                self._written = len(item.text)
                await self._stream.write(pending)
            return
        if self._stream is not None:
            self._written = len(item.text)
            if pending:
                await self._stream.write(pending)
            stream, self._stream = self._stream, None
            await stream.stop()
        elif pending:
            await self._restart(item.text)

    async def _restart(self, text: str) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        self._written = len(text)
        await self.update(text)


class ThinkingBlock(Collapsible):
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
            self.collapsed = True


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
        self._fold = Collapsible(self._body, title="output", collapsed=True)

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
            self._fold.collapsed = False
        elif first or item.status == "done":
            self._fold.collapsed = not open_


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
