"""The ``patch`` tool: several files, several hunks each, applied all or nothing.

Every change is computed in memory first; if any hunk fails (text not found, not unique, a file
to create already exists, a file to update was not read or changed since) nothing is written.
If writing fails half-way (a full disk), the files already written are restored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolError
from arcan_core.protocol.events import ToolDisplay
from arcan_core.tools.base import PreviewKind, Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.builtin._files import atomic_write, read_text, unified_diff
from arcan_core.tools.builtin.edit import replace_exact

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["FileChange", "Hunk", "PatchInput", "PatchTool"]


class Hunk(BaseModel):
    """One exact replacement inside a file."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    old: str = Field(description="Exact text to replace; must occur once in the file.")
    new: str = Field(description="Replacement text.")


class FileChange(BaseModel):
    """What happens to one file."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    path: str = Field(description="File path, relative to the workspace.")
    action: Literal["create", "update", "delete"] = Field(description="What to do with the file.")
    content: str | None = Field(default=None, description="Whole content, for create.")
    hunks: list[Hunk] | None = Field(default=None, description="Replacements, for update.")


class PatchInput(BaseModel):
    """Input of ``patch``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    changes: list[FileChange] = Field(min_length=1, description="The file changes, in order.")


_Planned = tuple["Path", str, str | None, str | None]  # path, shown, before, after (None: absent)


class PatchTool(Tool[PatchInput]):
    """Apply a multi-file, multi-hunk change atomically."""

    name: ClassVar[str] = "patch"
    description: ClassVar[str] = (
        "Change several files at once, all or nothing: create files (content), update files "
        "(hunks of exact old -> new replacements, each old unique in the file, applied in order) "
        "or delete files. If any part fails nothing is written. Returns the unified diff."
    )
    input_model: ClassVar[type[BaseModel]] = PatchInput
    category: ClassVar[ToolCategory] = "edit"
    rule_name: ClassVar[str | None] = "edit"

    def touched_paths(self, args: PatchInput, ctx: ToolContext) -> tuple[Path, ...]:
        """Every file the patch touches."""
        return tuple(dict.fromkeys(ctx.resolve_unchecked(c.path) for c in args.changes))

    def _plan(self, args: PatchInput, ctx: ToolContext, *, checked: bool) -> list[_Planned]:
        current: dict[Path, str | None] = {}
        originals: dict[Path, str | None] = {}
        shown_of: dict[Path, str] = {}
        for number, change in enumerate(args.changes, start=1):
            path = ctx.resolve(change.path) if checked else ctx.resolve_unchecked(change.path)
            shown = ctx.show(path)
            shown_of[path] = shown
            if path not in current:
                originals[path] = current[path] = read_text(path, shown) if path.exists() else None
            where = f"change {number} ({shown})"
            current[path] = _apply_change(change, current[path], where, shown)
        return [(p, shown_of[p], originals[p], after) for p, after in current.items()]

    def preview(self, args: PatchInput, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """The combined diff."""
        plan = self._plan(args, ctx, checked=False)
        return "".join(unified_diff(b or "", a or "", s) for _, s, b, a in plan), "diff"

    async def run(self, args: PatchInput, ctx: ToolContext) -> ToolResult:
        """Plan every change, then write them all (restoring on a failed write)."""
        plan = self._plan(args, ctx, checked=True)
        done: list[_Planned] = []
        try:
            for item in plan:
                _write(item)
                done.append(item)
        except ToolError:
            for path, shown, before, _ in reversed(done):
                _write((path, shown, None, before))
            raise
        summary: list[str] = []
        for path, shown, before, after in plan:
            ctx.session.mark_seen(path)
            verb = "deleted" if after is None else "created" if before is None else "updated"
            summary.append(f"{verb} {shown}")
        diff = "".join(unified_diff(b or "", a or "", s) for _, s, b, a in plan)
        return ToolResult(
            content="Patched: " + ", ".join(summary) + "\n" + diff,
            display=ToolDisplay(kind="diff", diff=diff),
        )


def _apply_change(change: FileChange, text: str | None, where: str, shown: str) -> str | None:
    if change.action == "create":
        if text is not None:
            raise ToolError(f"refused the whole patch: {where}: the file already exists")
        if change.content is None:
            raise ToolError(f"refused the whole patch: {where}: create needs content")
        return change.content
    if text is None:
        raise ToolError(f"refused the whole patch: {where}: the file does not exist")
    if change.action == "delete":
        return None
    if not change.hunks:
        raise ToolError(f"refused the whole patch: {where}: update needs hunks")
    for index, hunk in enumerate(change.hunks, start=1):
        try:
            text = replace_exact(text, hunk.old, hunk.new, replace_all=False, shown=shown)
        except ToolError as error:
            raise ToolError(
                f"refused the whole patch: {where}, hunk {index}: {error.message}", hint=error.hint
            ) from error
    return text


def _write(item: _Planned) -> None:
    path, shown, _, after = item
    if after is None:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise ToolError(f"cannot delete {shown}: {error.strerror}") from error
    else:
        atomic_write(path, after, shown)
