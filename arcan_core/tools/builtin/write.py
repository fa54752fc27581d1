"""The ``write`` tool: create a file, or replace one the agent has read and that has not changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolError
from arcan_core.protocol.events import ToolDisplay
from arcan_core.tools.base import PreviewKind, Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.builtin._files import atomic_write, read_text, unified_diff

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["WriteInput", "WriteTool"]


class WriteInput(BaseModel):
    """Input of ``write``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    path: str = Field(description="File to create or replace, relative to the workspace.")
    content: str = Field(description="The whole new content of the file.")


class WriteTool(Tool[WriteInput]):
    """Create or replace a whole file."""

    name: ClassVar[str] = "write"
    description: ClassVar[str] = (
        "Create a file, or replace a whole file with new content. Parent directories are created. "
        "Replacing an existing file is refused unless you read it in this session and it has not "
        "changed on disk since; for small changes prefer edit."
    )
    input_model: ClassVar[type[BaseModel]] = WriteInput
    category: ClassVar[ToolCategory] = "edit"
    rule_name: ClassVar[str | None] = "edit"

    def touched_paths(self, args: WriteInput, ctx: ToolContext) -> tuple[Path, ...]:
        """The file written."""
        return (ctx.resolve_unchecked(args.path),)

    def preview(self, args: WriteInput, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """The diff against the current file (all added lines for a new file)."""
        path = ctx.resolve_unchecked(args.path)
        shown = ctx.show(path)
        before = read_text(path, shown) if path.is_file() else ""
        return unified_diff(before, args.content, shown), "diff"

    async def run(self, args: WriteInput, ctx: ToolContext) -> ToolResult:
        """Write the file after the staleness check."""
        path = ctx.resolve(args.path)
        shown = ctx.show(path)
        if path.is_dir():
            raise ToolError(f"{shown} is a directory")
        exists = path.exists()
        before = ""
        if exists:
            stale = ctx.session.staleness(path)
            if stale is not None:
                raise ToolError(
                    f"refused to replace {shown}: " + stale.replace(str(path), shown),
                    hint=f"call read on {shown}, then write again (or use edit)",
                )
            before = read_text(path, shown)
        atomic_write(path, args.content, shown)
        ctx.session.mark_seen(path)
        diff = unified_diff(before, args.content, shown)
        lines = args.content.count("\n") + (0 if args.content.endswith("\n") else 1)
        verb = "Replaced" if exists else "Created"
        return ToolResult(
            content=f"{verb} {shown} ({lines} lines)",
            display=ToolDisplay(kind="diff", diff=diff),
        )
