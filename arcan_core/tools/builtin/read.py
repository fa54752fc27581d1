"""The ``read`` tool: a text file or a range of its lines, numbered, capped, optionally tagged."""

from __future__ import annotations

import asyncio
import io
import itertools
from typing import TYPE_CHECKING, BinaryIO, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolError
from arcan_core.tools.base import Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.builtin._files import MAX_EDIT_BYTES, line_tag, looks_binary

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ReadInput", "ReadTool"]

DEFAULT_LIMIT = 2000
MAX_LINE_CHARS = 2000
MAX_OUTPUT_CHARS = 40_000
_SNIFF = 8192


class ReadInput(BaseModel):
    """Input of ``read``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    path: str = Field(description="File to read, relative to the workspace or absolute.")
    offset: int | None = Field(
        default=None, ge=1, description="First line to show (1-based). Default: 1."
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description=f"Most lines to show. Default: {DEFAULT_LIMIT}.",
    )
    tags: bool | None = Field(
        default=None,
        description="Prefix each line with a tag 'N:hash' for the edit_lines tool. Default: false.",
    )


class ReadTool(Tool[ReadInput]):
    """Read a text file with line numbers."""

    name: ClassVar[str] = "read"
    description: ClassVar[str] = (
        "Read a text file. Lines come back numbered ('   12\\tcontent'); long files are cut and "
        "the result says how to read on (offset/limit). With tags=true each line is prefixed "
        "with a tag such as '12:a3f0' that the edit_lines tool uses to name lines safely. "
        "Binary files are reported, not shown. Reading a file lets write replace it later."
    )
    input_model: ClassVar[type[BaseModel]] = ReadInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "read"
    rule_name: ClassVar[str | None] = "read"

    def touched_paths(self, args: ReadInput, ctx: ToolContext) -> tuple[Path, ...]:
        """The file read."""
        return (ctx.resolve_unchecked(args.path),)

    async def run(self, args: ReadInput, ctx: ToolContext) -> ToolResult:
        """Read the lines asked for."""
        path = ctx.resolve(args.path)
        shown = ctx.show(path)
        content = await asyncio.to_thread(_read, path, shown, args)
        ctx.session.mark_seen(path)
        return ToolResult(content=content)


def _read(path: Path, shown: str, args: ReadInput) -> str:
    if path.is_dir():
        raise ToolError(f"{shown} is a directory", hint="list it with glob, e.g. pattern '*'")
    first = args.offset or 1
    limit = args.limit or DEFAULT_LIMIT
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            if looks_binary(handle.read(_SNIFF)):
                return f"{shown} is a binary file ({size} bytes); not shown"
            handle.seek(0)
            if size > MAX_EDIT_BYTES:
                # Too large to hold (and to edit): stream the window, leave the rest unread.
                lines, total = _window(handle, first, limit), None
            else:
                text = handle.read().decode("utf-8", errors="replace")
                # splitlines, as edit_lines numbers lines: a tag must name the same line.
                everything = text.splitlines()
                lines, total = everything[first - 1 : first - 1 + limit], len(everything)
    except FileNotFoundError as error:
        raise ToolError(f"{shown} does not exist", hint="find files with glob") from error
    except OSError as error:
        raise ToolError(f"cannot read {shown}: {error.strerror}") from error
    if total == 0:
        return f"{shown} is empty"
    if not lines:
        known = f"has {total} lines" if total is not None else "has fewer lines"
        raise ToolError(f"{shown} {known}; offset {first} is past the end")
    return _render(lines, first, total, args)


def _window(handle: BinaryIO, first: int, limit: int) -> list[str]:
    text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace")
    return [line.rstrip("\r\n") for line in itertools.islice(text, first - 1, first - 1 + limit)]


def _render(lines: list[str], first: int, total: int | None, args: ReadInput) -> str:
    out: list[str] = []
    size = 0
    last = first - 1
    long_lines = 0
    for number, original in enumerate(lines, start=first):
        line = original
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + f" [... {len(line) - MAX_LINE_CHARS} characters cut]"
            long_lines += 1
        prefix = line_tag(number, original) if args.tags else f"{number}"
        rendered = f"{prefix:>6}\t{line}"
        if size + len(rendered) > MAX_OUTPUT_CHARS and out:
            break
        out.append(rendered)
        size += len(rendered) + 1
        last = number
    notes: list[str] = []
    if total is None:
        notes.append(
            f"[showing lines {first}-{last} of a file too large to count; "
            f"read on with offset={last + 1}]"
        )
    elif last < total:
        notes.append(f"[showing lines {first}-{last} of {total}; read on with offset={last + 1}]")
    if long_lines:
        notes.append(f"[{long_lines} long lines were cut at {MAX_LINE_CHARS} characters]")
    return "\n".join(out + notes)
