"""glob and grep: .gitignore honoured, ripgrep and the Python fallback agree, caps and order."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import ToolError, ToolInputError
from arcan_core.tools.base import ToolContext
from arcan_core.tools.builtin.search import (
    MAX_GLOB_RESULTS,
    MAX_GREP_MATCHES,
    GlobInput,
    GlobTool,
    GrepInput,
    GrepTool,
    find_rg,
)

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.protocol.events import EventMsg

RG = find_rg()
needs_rg = pytest.mark.skipif(RG is None, reason="no rg beside the interpreter or on PATH")


def _drop(msg: EventMsg, /) -> None:
    del msg


def _write(path: Path, text: str, mtime: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    ws = (tmp_path / "ws").resolve()
    _write(ws / ".gitignore", "build/\n*.log\n")
    _write(ws / "src" / "app.py", "def main():\n    return helper()\n", mtime=1_000_000)
    _write(ws / "src" / "util.py", "def helper():\n    return 42\n", mtime=3_000_000)
    _write(ws / "src" / "deep" / "x.py", "HELPER = 1\n", mtime=2_000_000)
    _write(ws / "src" / ".gitignore", "generated.py\n")
    _write(ws / "src" / "generated.py", "def helper(): pass\n")
    _write(ws / "build" / "out.py", "def helper(): pass\n")
    _write(ws / "debug.log", "helper\n")
    _write(ws / ".hidden" / "conf.py", "helper = True\n", mtime=500_000)
    _write(ws / ".git" / "config", "helper\n")
    (ws / "blob.bin").write_bytes(b"helper\x00\x01\x02")
    return ToolContext(workspace=ws, call_id="c", emit=_drop)


TOOL_VARIANTS = [pytest.param(None, id="python")] + ([pytest.param(RG, id="ripgrep")] if RG else [])


@pytest.mark.parametrize("rg", TOOL_VARIANTS)
async def test_glob_honours_gitignore_and_lists_recent_first(
    ctx: ToolContext, rg: Path | None
) -> None:
    result = await GlobTool(rg=rg).run(GlobInput(pattern="*.py"), ctx)
    assert result.content.splitlines() == [
        "src/util.py",
        "src/deep/x.py",
        "src/app.py",
        ".hidden/conf.py",
    ]


@pytest.mark.parametrize("rg", TOOL_VARIANTS)
async def test_glob_in_a_subdirectory_keeps_the_parent_gitignore(
    ctx: ToolContext, rg: Path | None
) -> None:
    _write(ctx.workspace / "src" / "build" / "skip.py", "x\n")
    result = await GlobTool(rg=rg).run(GlobInput(pattern="**/*.py", path="src"), ctx)
    assert "src/build/skip.py" not in result.content
    assert "src/app.py" in result.content


@pytest.mark.parametrize("rg", TOOL_VARIANTS)
async def test_grep_groups_matches_by_file_recent_first(ctx: ToolContext, rg: Path | None) -> None:
    result = await GrepTool(rg=rg).run(GrepInput(pattern="helper"), ctx)
    assert result.content.splitlines() == [
        "src/util.py",
        "  1: def helper():",
        "src/app.py",
        "  2:     return helper()",
        ".hidden/conf.py",
        "  1: helper = True",
    ]


@pytest.mark.parametrize("rg", TOOL_VARIANTS)
async def test_grep_options(ctx: ToolContext, rg: Path | None) -> None:
    tool = GrepTool(rg=rg)
    insensitive = await tool.run(GrepInput(pattern="helper", ignore_case=True, glob="x.py"), ctx)
    assert insensitive.content.splitlines() == ["src/deep/x.py", "  1: HELPER = 1"]
    files = await tool.run(GrepInput(pattern="return", files_only=True), ctx)
    assert files.content.splitlines() == ["src/util.py", "src/app.py"]
    context = await tool.run(GrepInput(pattern="42", context=1), ctx)
    assert context.content.splitlines() == [
        "src/util.py",
        "  1- def helper():",
        "  2:     return 42",
    ]
    one_file = await tool.run(GrepInput(pattern="main", path="src/app.py"), ctx)
    assert one_file.content.splitlines() == ["src/app.py", "  1: def main():"]
    none = await tool.run(GrepInput(pattern="no such text"), ctx)
    assert none.content.startswith("no matches")


@needs_rg
async def test_ripgrep_and_python_agree_on_a_larger_tree(ctx: ToolContext) -> None:
    for i in range(60):
        _write(
            ctx.workspace / f"pkg{i % 6}" / f"m{i}.py",
            "".join(f"value_{j} = {i * j}\n" for j in range(30)),
            mtime=1_000_000 + i,
        )
    for args in (
        GrepInput(pattern=r"value_1\d = "),
        GrepInput(pattern="= 1", context=2),
        GrepInput(pattern="VALUE_2", ignore_case=True, glob="pkg1/**"),
        GrepInput(pattern="value", files_only=True),
    ):
        fast = await GrepTool(rg=RG).run(args, ctx)
        slow = await GrepTool(rg=None).run(args, ctx)
        assert fast.content == slow.content, args
    for pattern in ("*.py", "pkg3/*", "m1*.py"):
        fast = await GlobTool(rg=RG).run(GlobInput(pattern=pattern), ctx)
        slow = await GlobTool(rg=None).run(GlobInput(pattern=pattern), ctx)
        assert fast.content == slow.content, pattern


@pytest.mark.parametrize("rg", TOOL_VARIANTS)
async def test_results_are_capped_with_a_note(ctx: ToolContext, rg: Path | None) -> None:
    many = ctx.workspace / "many"
    for i in range(MAX_GLOB_RESULTS + 20):
        _write(many / f"f{i:04}.txt", "hit\n" * 3)
    globbed = await GlobTool(rg=rg).run(GlobInput(pattern="*.txt", path="many"), ctx)
    lines = globbed.content.splitlines()
    assert len(lines) == MAX_GLOB_RESULTS + 1
    assert lines[-1] == "[20 more files not shown; narrow the pattern or the path]"
    grepped = await GrepTool(rg=rg).run(GrepInput(pattern="hit", path="many"), ctx)
    assert grepped.content.splitlines()[-1] == (
        f"[showing {MAX_GREP_MATCHES} of {3 * (MAX_GLOB_RESULTS + 20)} matches in "
        f"{MAX_GLOB_RESULTS + 20} files; narrow the pattern, path or glob]"
    )


@pytest.mark.parametrize("rg", TOOL_VARIANTS)
async def test_bad_patterns_and_paths_are_tool_errors(ctx: ToolContext, rg: Path | None) -> None:
    with pytest.raises(ToolInputError, match="grep failed"):
        await GrepTool(rg=rg).run(GrepInput(pattern="(unclosed"), ctx)
    with pytest.raises(ToolError, match="does not exist"):
        await GrepTool(rg=rg).run(GrepInput(pattern="x", path="missing"), ctx)
    with pytest.raises(ToolError, match="not a directory"):
        await GlobTool(rg=rg).run(GlobInput(pattern="*", path="src/app.py"), ctx)


async def test_long_matching_lines_are_cut(ctx: ToolContext) -> None:
    _write(ctx.workspace / "wide.txt", "needle " + "x" * 5000 + "\n")
    result = await GrepTool(rg=None).run(GrepInput(pattern="needle"), ctx)
    assert result.content.splitlines()[1].endswith(" [...]")
    assert len(result.content) < 500
