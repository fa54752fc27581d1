"""Markdown for streamed replies: Textual's ``Markdown`` with blocks that cost less per frame.

While a reply streams, each flush grows it and Textual lays out and repaints the transcript. That
work grows with the number of mounted widgets and with the number of layout passes, so:

- a list whose items are each a single paragraph (what models write nearly always) is one widget
  that draws its bullets with a hanging indent; Textual's own list mounts four widgets per item
  (a row, the bullet, a column, the paragraph). Any other list keeps Textual's widgets;
- a list that is still growing at the end of the stream is updated in place, where Textual removes
  it and mounts it again on every append;
- every block skips the second layout pass Textual schedules right after it resized a widget (see
  ``QuietResize``);
- one Markdown parser serves every append, instead of one built per append.

The output is the same cells as Textual's ``Markdown`` (a test compares them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Self, cast

from markdown_it import MarkdownIt
from textual.content import Content
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Label, Markdown
from textual.widgets._markdown import (
    MarkdownBlock,
    MarkdownBulletList,
    MarkdownFence,
    MarkdownListItem,
    MarkdownOrderedList,
    MarkdownOrderedListItem,
    MarkdownParagraph,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from textual.app import ComposeResult
    from textual.css.styles import RulesMap
    from textual.geometry import Region, Size
    from textual.selection import Selection
    from textual.strip import Strip
    from textual.style import Style
    from textual.visual import RenderOptions

__all__ = [
    "STREAM_BLOCKS",
    "FlatBulletList",
    "FlatOrderedList",
    "HangingList",
    "QuietFence",
    "QuietResize",
    "shared_parser",
]


class QuietResize(Widget):
    """Skip the layout pass Textual schedules after the compositor resized this widget.

    When a layout changes a widget's size, Textual stores the new virtual size through a reactive
    that refreshes the layout again, so every growing frame of a stream cost a second layout and a
    full repaint of the transcript on the next tick. For these widgets the virtual size is an
    output of the layout that just ran, so that pass changes nothing. A change that does need
    one (a scrollbar appearing, new content) refreshes the layout through its own path.
    """

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        del layout
        return super()._size_updated(size, virtual_size, container_size, layout=False)

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Refresh, unless the widget is not mounted yet (then its mount shows it as it is).

        Blocks get their content before they are mounted. Textual keeps the refresh that asks
        for and runs it once the widget is idle after its mount: one more layout and repaint, a
        frame after the one that already showed the block.
        """
        if not self.is_mounted and not recompose:
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


@lru_cache(maxsize=1)
def shared_parser() -> MarkdownIt:
    """Return the one parser every streamed reply uses (building one costs more than a parse)."""
    return MarkdownIt("gfm-like")


class HangingList(Visual):
    """List items drawn as ``symbol`` + body, with wrapped lines indented under the body."""

    def __init__(self, items: Sequence[tuple[Content, Content]]) -> None:
        self.items = tuple(items)
        self._cache: tuple[int, Content] | None = None

    def _layout(self, width: int) -> Content:
        cached = self._cache
        if cached is not None and cached[0] == width:
            return cached[1]
        lines: list[Content] = []
        for symbol, body in self.items:
            indent = symbol.cell_length
            # The same wrap Textual's paragraph would do in the column beside the bullet.
            wrapped = body.wrap(max(1, width - indent)) or [Content("")]
            pad = Content(" " * indent)
            lines.extend((symbol if n == 0 else pad) + line for n, line in enumerate(wrapped))
        laid_out = Content("\n").join(lines)
        self._cache = (width, laid_out)
        return laid_out

    def text(self, width: int) -> str:
        """The items as drawn at ``width``, line by line (what a selection indexes)."""
        return self._layout(width).plain

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        """Render the items at ``width`` (part of the Visual protocol)."""
        return self._layout(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        """The widest item unwrapped."""
        return max(
            (
                symbol.cell_length + body.get_optimal_width(rules, container_width)
                for symbol, body in self.items
            ),
            default=0,
        )

    def get_height(self, rules: RulesMap, width: int) -> int:
        """Lines the items take at ``width``."""
        return self._layout(width).get_height(rules, width)


_BULLET = "flat-list--bullet"
"""Component class of a flat list's bullets and numbers."""


def _flat_items(
    blocks: Sequence[MarkdownBlock], symbols: Sequence[str]
) -> list[tuple[Content, Content]] | None:
    """Return (symbol, body) per item, or ``None`` when an item is more than one paragraph."""
    bodies: list[Content] = []
    for block in blocks:
        if not isinstance(block, MarkdownListItem):
            return None
        children = block._blocks
        # Anything but one paragraph (an empty item too, which Textual draws as no line at all)
        # is left to Textual's widgets.
        if len(children) != 1 or not isinstance(children[0], MarkdownParagraph):
            return None
        bodies.append(children[0]._content)
    return [
        (Content.styled(symbol, f".{_BULLET}"), body)
        for symbol, body in zip(symbols, bodies, strict=True)
    ]


def _bullets(blocks: Sequence[MarkdownBlock]) -> list[str]:
    return [block.bullet for block in blocks if isinstance(block, MarkdownListItem)]


def _numbers(blocks: Sequence[MarkdownBlock]) -> list[str]:
    # Numbered and right-aligned as Textual's ordered list does.
    start = 1
    first = blocks[0] if blocks else None
    if isinstance(first, MarkdownOrderedListItem) and first.bullet.isdigit():
        start = int(first.bullet)
    labels = [f"{number}. " for number in range(start, start + len(blocks))]
    size = max((len(label) for label in labels), default=0)
    return [label.rjust(size + 1) for label in labels]


def _selected(block: MarkdownBlock, selection: Selection) -> tuple[str, str] | None:
    """The selected text of a flat list (Textual only extracts from ``Content`` visuals)."""
    visual = block._render()
    if isinstance(visual, HangingList):
        return selection.extract(visual.text(block.content_region.width)), "\n"
    return None


def _draw_flat(
    block: MarkdownBlock, symbols: Callable[[Sequence[MarkdownBlock]], list[str]]
) -> bool:
    """Draw ``block``'s items as one ``HangingList`` when they allow it; return whether it did."""
    items = _flat_items(block._blocks, symbols(block._blocks))
    if items is None:
        return False
    block._blocks.clear()
    block.update(HangingList(items))
    return True


def _redraw_flat(
    block: MarkdownBlock,
    grown: MarkdownBlock,
    symbols: Callable[[Sequence[MarkdownBlock]], list[str]],
) -> bool:
    """Redraw a flat list in place from its ``grown`` parse; ``False`` when it no longer is flat."""
    items = _flat_items(grown._blocks, symbols(grown._blocks))
    if items is None:
        return False
    block._copy_context(grown)
    block.update(HangingList(items))
    return True


# Textual's list class comes first in each class below: Textual takes CSS (rules and type names)
# from the first base only, and the mixin must sit after it in the MRO anyway. For the same
# reason (the Textual class's methods shadow a mixin's) each class delegates to the helpers above.


class FlatBulletList(MarkdownBulletList, QuietResize):
    """A bullet list, drawn by this one widget when its items are single paragraphs."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {_BULLET}
    # The bullet's colours are those of Textual's ``MarkdownBullet``.
    DEFAULT_CSS = """
    FlatBulletList > .flat-list--bullet { color: $text-primary; }
    FlatBulletList:light > .flat-list--bullet { color: $text-secondary; }
    """

    flat: bool = False
    """Whether the list is drawn flat (decided when it is composed)."""

    def compose(self) -> ComposeResult:
        """Draw the items flat, or fall back to Textual's widgets for a richer list."""
        self.flat = _draw_flat(self, _bullets)
        if not self.flat:
            yield from super().compose()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text: bullets and items as drawn, or Textual's for a richer list."""
        return _selected(self, selection) if self.flat else super().get_selection(selection)

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        # The last list of a stream grows on each append: redraw it rather than remount it.
        flat = self.flat and isinstance(block, FlatBulletList)
        if not (flat and _redraw_flat(self, block, _bullets)):
            await super()._update_from_block(block)


class FlatOrderedList(MarkdownOrderedList, QuietResize):
    """A numbered list, drawn by this one widget when its items are single paragraphs."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {_BULLET}
    DEFAULT_CSS = """
    FlatOrderedList > .flat-list--bullet { color: $text-primary; }
    FlatOrderedList:light > .flat-list--bullet { color: $text-secondary; }
    """

    flat: bool = False
    """Whether the list is drawn flat (decided when it is composed)."""

    def compose(self) -> ComposeResult:
        """Draw the items flat, or fall back to Textual's widgets for a richer list."""
        self.flat = _draw_flat(self, _numbers)
        if not self.flat:
            yield from super().compose()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text: numbers and items as drawn, or Textual's for a richer list."""
        return _selected(self, selection) if self.flat else super().get_selection(selection)

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        flat = self.flat and isinstance(block, FlatOrderedList)
        if not (flat and _redraw_flat(self, block, _numbers)):
            await super()._update_from_block(block)


class _CodeLabel(Label, QuietResize):
    """The label holding a fence's highlighted code."""


class QuietFence(MarkdownFence, QuietResize):
    """A code fence whose code label also skips the post-resize layout pass."""

    def compose(self) -> ComposeResult:
        """The highlighted code, as Textual's fence composes it."""
        yield _CodeLabel(self._highlighted_code, id="code-content", expand=True)


def _quiet(block_class: type[MarkdownBlock]) -> type[MarkdownBlock]:
    """The same block class, skipping the post-resize layout pass (same name, so same CSS)."""
    quiet = type(block_class.__name__, (block_class, QuietResize), {"__module__": __name__})
    return cast("type[MarkdownBlock]", quiet)


def _stream_blocks() -> Iterator[tuple[str, type[MarkdownBlock]]]:
    replaced: dict[type[MarkdownBlock], type[MarkdownBlock]] = {
        MarkdownBulletList: FlatBulletList,
        MarkdownOrderedList: FlatOrderedList,
        MarkdownFence: QuietFence,
    }
    quiet: dict[type[MarkdownBlock], type[MarkdownBlock]] = {}
    for name, block_class in Markdown.BLOCKS.items():
        if block_class in replaced:
            yield name, replaced[block_class]
            continue
        if block_class not in quiet:
            quiet[block_class] = _quiet(block_class)
        yield name, quiet[block_class]


STREAM_BLOCKS: dict[str, type[MarkdownBlock]] = dict(_stream_blocks())
"""Markdown block name -> the block class streamed replies use."""
