"""The ``edit`` and ``edit_lines`` tools: exact replacements, and replacements of tagged lines.

``edit`` replaces an exact string that must occur once (or every occurrence with
``replace_all``). ``edit_lines`` names lines by the tags ``read`` shows (``12:a3f0``, the line
number and a hash of its content): if any tag no longer matches the file, because the human or a
formatter changed it, the whole edit is refused and nothing is written.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolError
from arcan_core.protocol.events import ToolDisplay
from arcan_core.tools.base import PreviewKind, Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.builtin._files import atomic_write, line_tag, read_text, unified_diff

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["EditInput", "EditLinesInput", "EditLinesTool", "EditTool", "LineEdit"]


class EditInput(BaseModel):
    """Input of ``edit``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    path: str = Field(description="File to change, relative to the workspace.")
    old: str = Field(description="Exact text to replace, including indentation.")
    new: str = Field(description="Text to put in its place.")
    replace_all: bool | None = Field(
        default=None, description="Replace every occurrence instead of requiring exactly one."
    )


def _match_endings(text: str, fragment: str) -> str:
    # The model writes "\n"; a CRLF file must still match, and keep its endings.
    if "\r\n" in text and "\r\n" not in fragment:
        return fragment.replace("\n", "\r\n")
    return fragment


def replace_exact(text: str, old: str, new: str, *, replace_all: bool, shown: str) -> str:
    """Return ``text`` with ``old`` replaced by ``new``.

    Raises:
        ToolError: ``old`` is empty, equal to ``new``, missing, or not unique.
    """
    if not old:
        raise ToolError("old is empty", hint="to create a file use write")
    if old == new:
        raise ToolError("old and new are the same; nothing to change")
    old, new = _match_endings(text, old), _match_endings(text, new)
    count = text.count(old)
    if count == 0:
        raise ToolError(
            f"the text to replace was not found in {shown}",
            hint="read the file again and copy the text exactly, whitespace included",
        )
    if count > 1 and not replace_all:
        lines = []
        start = 0
        for _ in range(min(count, 5)):
            found = text.index(old, start)
            lines.append(str(text.count("\n", 0, found) + 1))
            start = found + 1
        raise ToolError(
            f"the text to replace occurs {count} times in {shown} (lines {', '.join(lines)}...)",
            hint="include more surrounding lines to make it unique, or set replace_all",
        )
    return text.replace(old, new) if replace_all else text.replace(old, new, 1)


class EditTool(Tool[EditInput]):
    """Replace an exact string in a file."""

    name: ClassVar[str] = "edit"
    description: ClassVar[str] = (
        "Replace exact text in a file: 'old' must occur exactly once (copy it from read output, "
        "without the line-number prefix, whitespace included) unless replace_all is true. "
        "Returns a unified diff of the change."
    )
    input_model: ClassVar[type[BaseModel]] = EditInput
    category: ClassVar[ToolCategory] = "edit"
    rule_name: ClassVar[str | None] = "edit"

    def touched_paths(self, args: EditInput, ctx: ToolContext) -> tuple[Path, ...]:
        """The file edited."""
        return (ctx.resolve_unchecked(args.path),)

    def _apply(self, args: EditInput, path: Path, shown: str) -> tuple[str, str]:
        before = read_text(path, shown)
        after = replace_exact(
            before, args.old, args.new, replace_all=bool(args.replace_all), shown=shown
        )
        return before, after

    def preview(self, args: EditInput, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """The diff the edit would make."""
        path = ctx.resolve_unchecked(args.path)
        shown = ctx.show(path)
        before, after = self._apply(args, path, shown)
        return unified_diff(before, after, shown), "diff"

    async def run(self, args: EditInput, ctx: ToolContext) -> ToolResult:
        """Apply the replacement and return the diff."""
        path = ctx.resolve(args.path)
        shown = ctx.show(path)
        before, after = self._apply(args, path, shown)
        atomic_write(path, after, shown)
        ctx.session.mark_seen(path)
        diff = unified_diff(before, after, shown)
        return ToolResult(
            content=f"Edited {shown}\n{diff}", display=ToolDisplay(kind="diff", diff=diff)
        )


class LineEdit(BaseModel):
    """Replace the lines from ``start`` to ``end`` (inclusive) with ``new``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    start: str = Field(description="Tag of the first line to replace, e.g. '12:a3f0'.")
    end: str | None = Field(default=None, description="Tag of the last line. Default: start.")
    new: str = Field(description="Replacement text (several lines allowed; empty deletes).")


class EditLinesInput(BaseModel):
    """Input of ``edit_lines``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    path: str = Field(description="File to change, relative to the workspace.")
    edits: list[LineEdit] = Field(min_length=1, description="Non-overlapping line replacements.")


def apply_line_edits(text: str, edits: list[LineEdit], shown: str) -> str:
    """Return ``text`` with every tagged range replaced, or refuse all of them.

    Raises:
        ToolError: a tag is malformed or stale, or ranges overlap.
    """
    lines = text.splitlines(keepends=True)
    ending = "\r\n" if "\r\n" in text else "\n"
    spans: list[tuple[int, int, str]] = []
    stale: list[str] = []
    for edit in edits:
        first = _check_tag(edit.start, lines, stale)
        last = _check_tag(edit.end, lines, stale) if edit.end else first
        if first is not None and last is not None:
            if last < first:
                raise ToolError(f"the range {edit.start}..{edit.end} ends before it starts")
            spans.append((first, last, edit.new))
    if stale:
        raise ToolError(
            f"refused the whole edit of {shown}: these tags no longer match the file: "
            + ", ".join(stale),
            hint=f"read {shown} again with tags=true and use the new tags",
        )
    spans.sort()
    for (_, last, _), (first, _, _) in itertools.pairwise(spans):
        if first <= last:
            raise ToolError("two line edits overlap; merge them into one")
    for first, last, new in reversed(spans):
        replacement = new.replace("\r\n", "\n").replace("\n", ending)
        if replacement and not replacement.endswith("\n") and lines[last - 1].endswith("\n"):
            replacement += ending
        lines[first - 1 : last] = [replacement] if replacement else []
    return "".join(lines)


def _check_tag(tag: str, lines: list[str], stale: list[str]) -> int | None:
    number_text, _, _ = tag.partition(":")
    if not number_text.isdigit() or ":" not in tag:
        raise ToolError(
            f"{tag!r} is not a line tag", hint="tags look like '12:a3f0' (read tags=true)"
        )
    number = int(number_text)
    if not 1 <= number <= len(lines) or line_tag(number, lines[number - 1]) != tag:
        stale.append(tag)
        return None
    return number


class EditLinesTool(Tool[EditLinesInput]):
    """Replace lines named by the tags ``read`` shows."""

    name: ClassVar[str] = "edit_lines"
    description: ClassVar[str] = (
        "Replace ranges of lines named by tags from read with tags=true (e.g. start '12:a3f0', "
        "end '14:9bc1'). If any tag no longer matches the file the whole edit is refused, so a "
        "stale edit never lands half-applied. Returns a unified diff."
    )
    input_model: ClassVar[type[BaseModel]] = EditLinesInput
    category: ClassVar[ToolCategory] = "edit"
    rule_name: ClassVar[str | None] = "edit"

    def touched_paths(self, args: EditLinesInput, ctx: ToolContext) -> tuple[Path, ...]:
        """The file edited."""
        return (ctx.resolve_unchecked(args.path),)

    def preview(self, args: EditLinesInput, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """The diff the edit would make."""
        path = ctx.resolve_unchecked(args.path)
        shown = ctx.show(path)
        before = read_text(path, shown)
        return unified_diff(before, apply_line_edits(before, args.edits, shown), shown), "diff"

    async def run(self, args: EditLinesInput, ctx: ToolContext) -> ToolResult:
        """Check every tag, then apply all ranges at once."""
        path = ctx.resolve(args.path)
        shown = ctx.show(path)
        before = read_text(path, shown)
        after = apply_line_edits(before, args.edits, shown)
        atomic_write(path, after, shown)
        ctx.session.mark_seen(path)
        diff = unified_diff(before, after, shown)
        return ToolResult(
            content=f"Edited {shown}\n{diff}", display=ToolDisplay(kind="diff", diff=diff)
        )
