"""The file tools on real files: read, write, edit, edit_lines and patch, success and failure."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import PathEscapeError, ToolError
from arcan_core.tools.base import ToolContext
from arcan_core.tools.builtin import read as read_module
from arcan_core.tools.builtin._files import line_tag
from arcan_core.tools.builtin.edit import (
    EditInput,
    EditLinesInput,
    EditLinesTool,
    EditTool,
    LineEdit,
)
from arcan_core.tools.builtin.patch import FileChange, Hunk, PatchInput, PatchTool
from arcan_core.tools.builtin.read import MAX_LINE_CHARS, ReadInput, ReadTool
from arcan_core.tools.builtin.write import WriteInput, WriteTool

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.protocol.events import EventMsg


def _drop(msg: EventMsg, /) -> None:
    del msg


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return ToolContext(workspace=workspace.resolve(), call_id="c1", emit=_drop)


async def test_read_numbers_lines_and_marks_the_file_seen(ctx: ToolContext) -> None:
    (ctx.workspace / "a.txt").write_text("one\ntwo\nthree\n")
    result = await ReadTool().run(ReadInput(path="a.txt"), ctx)
    assert result.content.splitlines() == ["     1\tone", "     2\ttwo", "     3\tthree"]
    assert ctx.session.staleness(ctx.workspace / "a.txt") is None


async def test_read_range_says_how_to_read_on(ctx: ToolContext) -> None:
    (ctx.workspace / "a.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    result = await ReadTool().run(ReadInput(path="a.txt", offset=10, limit=5), ctx)
    lines = result.content.splitlines()
    assert lines[0] == "    10\tline 10"
    assert lines[4] == "    14\tline 14"
    assert lines[-1] == "[showing lines 10-14 of 100; read on with offset=15]"


async def test_read_cuts_long_lines_and_huge_files_with_a_note(ctx: ToolContext) -> None:
    (ctx.workspace / "long.txt").write_text("x" * (MAX_LINE_CHARS + 50) + "\n")
    result = await ReadTool().run(ReadInput(path="long.txt"), ctx)
    assert "[... 50 characters cut]" in result.content
    assert "long lines were cut" in result.content
    (ctx.workspace / "big.txt").write_text("y" * 1000 + "\n" * 1 + ("z" * 1000 + "\n") * 100)
    big = await ReadTool().run(ReadInput(path="big.txt"), ctx)
    assert len(big.content) < 45_000
    assert "read on with offset=" in big.content


async def test_read_reports_binary_missing_directory_and_past_end(ctx: ToolContext) -> None:
    (ctx.workspace / "bin").write_bytes(b"\x00\x01\x02" * 10)
    result = await ReadTool().run(ReadInput(path="bin"), ctx)
    assert "binary file (30 bytes)" in result.content
    with pytest.raises(ToolError, match="does not exist"):
        await ReadTool().run(ReadInput(path="nope.txt"), ctx)
    (ctx.workspace / "d").mkdir()
    with pytest.raises(ToolError, match="is a directory"):
        await ReadTool().run(ReadInput(path="d"), ctx)
    (ctx.workspace / "s.txt").write_text("a\n")
    with pytest.raises(ToolError, match="past the end"):
        await ReadTool().run(ReadInput(path="s.txt", offset=5), ctx)


async def test_read_refuses_a_path_outside_the_workspace(ctx: ToolContext) -> None:
    (ctx.workspace.parent / "secret.txt").write_text("s")
    with pytest.raises(PathEscapeError, match="outside the workspace"):
        await ReadTool().run(ReadInput(path="../secret.txt"), ctx)


async def test_read_tags_name_lines_by_content(ctx: ToolContext) -> None:
    (ctx.workspace / "a.txt").write_text("alpha\nbeta\n")
    result = await ReadTool().run(ReadInput(path="a.txt", tags=True), ctx)
    first = result.content.splitlines()[0]
    assert first.strip().startswith(line_tag(1, "alpha"))
    assert first.endswith("\talpha")


async def test_write_creates_a_file_with_parents(ctx: ToolContext) -> None:
    result = await WriteTool().run(WriteInput(path="src/new/mod.py", content="x = 1\n"), ctx)
    assert (ctx.workspace / "src/new/mod.py").read_text() == "x = 1\n"
    assert result.content == "Created src/new/mod.py (1 lines)"
    assert result.display is not None
    assert "+x = 1" in (result.display.diff or "")


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o027, 0o640)])
async def test_write_creates_new_files_with_the_umask_mode(
    ctx: ToolContext, umask: int, expected: int
) -> None:
    # A new file must get what any editor would give it (0o666 less the umask), not the
    # private 0o600 of a temporary file.
    old = os.umask(umask)
    try:
        await WriteTool().run(WriteInput(path="fresh.txt", content="x\n"), ctx)
        await PatchTool().run(
            PatchInput(changes=[FileChange(path="made.txt", action="create", content="y\n")]), ctx
        )
    finally:
        os.umask(old)
    assert (ctx.workspace / "fresh.txt").stat().st_mode & 0o777 == expected
    assert (ctx.workspace / "made.txt").stat().st_mode & 0o777 == expected


async def test_write_refuses_to_replace_a_file_not_read(ctx: ToolContext) -> None:
    target = ctx.workspace / "a.txt"
    target.write_text("original\n")
    with pytest.raises(ToolError, match="was not read in this session"):
        await WriteTool().run(WriteInput(path="a.txt", content="new\n"), ctx)
    assert target.read_text() == "original\n"


async def test_write_refuses_a_file_changed_since_it_was_read(ctx: ToolContext) -> None:
    target = ctx.workspace / "a.txt"
    target.write_text("original\n")
    await ReadTool().run(ReadInput(path="a.txt"), ctx)
    target.write_text("changed by a human\n")
    os.utime(target, ns=(1, 1))  # make sure the stamp differs even on a coarse clock
    with pytest.raises(ToolError, match="changed on disk since it was last read"):
        await WriteTool().run(WriteInput(path="a.txt", content="new\n"), ctx)
    assert target.read_text() == "changed by a human\n"


async def test_write_replaces_a_file_read_before_and_keeps_its_mode(ctx: ToolContext) -> None:
    target = ctx.workspace / "run.sh"
    target.write_text("echo a\n")
    target.chmod(0o755)
    await ReadTool().run(ReadInput(path="run.sh"), ctx)
    result = await WriteTool().run(WriteInput(path="run.sh", content="echo b\n"), ctx)
    assert result.content.startswith("Replaced run.sh")
    assert target.read_text() == "echo b\n"
    assert target.stat().st_mode & 0o777 == 0o755
    # Its own write counts as seen: a second write needs no new read.
    await WriteTool().run(WriteInput(path="run.sh", content="echo c\n"), ctx)
    assert target.read_text() == "echo c\n"


async def test_edit_replaces_a_unique_match_and_returns_a_diff(ctx: ToolContext) -> None:
    (ctx.workspace / "m.py").write_text("def f():\n    return 1\n")
    result = await EditTool().run(EditInput(path="m.py", old="return 1", new="return 2"), ctx)
    assert (ctx.workspace / "m.py").read_text() == "def f():\n    return 2\n"
    assert result.display is not None
    assert result.display.kind == "diff"
    assert "-    return 1\n+    return 2\n" in (result.display.diff or "")


async def test_edit_failures_leave_the_file_alone(ctx: ToolContext) -> None:
    target = ctx.workspace / "m.py"
    target.write_text("a = 1\na = 1\n")
    with pytest.raises(ToolError, match="occurs 2 times"):
        await EditTool().run(EditInput(path="m.py", old="a = 1", new="a = 2"), ctx)
    with pytest.raises(ToolError, match="not found"):
        await EditTool().run(EditInput(path="m.py", old="b = 1", new="b = 2"), ctx)
    with pytest.raises(ToolError, match="the same"):
        await EditTool().run(EditInput(path="m.py", old="a = 1", new="a = 1"), ctx)
    with pytest.raises(ToolError, match="old is empty"):
        await EditTool().run(EditInput(path="m.py", old="", new="x"), ctx)
    with pytest.raises(ToolError, match="does not exist"):
        await EditTool().run(EditInput(path="none.py", old="a", new="b"), ctx)
    assert target.read_text() == "a = 1\na = 1\n"
    await EditTool().run(EditInput(path="m.py", old="a = 1", new="a = 2", replace_all=True), ctx)
    assert target.read_text() == "a = 2\na = 2\n"


async def test_edit_keeps_crlf_line_endings(ctx: ToolContext) -> None:
    target = ctx.workspace / "w.txt"
    target.write_bytes(b"one\r\ntwo\r\n")
    await EditTool().run(EditInput(path="w.txt", old="one\ntwo", new="uno\ndos"), ctx)
    assert target.read_bytes() == b"uno\r\ndos\r\n"


async def test_edit_lines_applies_tagged_ranges(ctx: ToolContext) -> None:
    target = ctx.workspace / "t.txt"
    target.write_text("a\nb\nc\nd\n")
    edits = [
        LineEdit(start=line_tag(1, "a"), new="A"),
        LineEdit(start=line_tag(3, "c"), end=line_tag(4, "d"), new="C\nD\nE"),
    ]
    await EditLinesTool().run(EditLinesInput(path="t.txt", edits=edits), ctx)
    assert target.read_text() == "A\nb\nC\nD\nE\n"


async def test_edit_lines_refuses_the_whole_edit_when_a_tag_is_stale(ctx: ToolContext) -> None:
    target = ctx.workspace / "t.txt"
    target.write_text("a\nb\nc\n")
    good = LineEdit(start=line_tag(1, "a"), new="A")
    stale = LineEdit(start=line_tag(3, "c was formatted"), new="C")
    with pytest.raises(ToolError, match="refused the whole edit"):
        await EditLinesTool().run(EditLinesInput(path="t.txt", edits=[good, stale]), ctx)
    assert target.read_text() == "a\nb\nc\n"
    with pytest.raises(ToolError, match="overlap"):
        await EditLinesTool().run(
            EditLinesInput(
                path="t.txt",
                edits=[
                    LineEdit(start=line_tag(1, "a"), end=line_tag(2, "b"), new="x"),
                    LineEdit(start=line_tag(2, "b"), new="y"),
                ],
            ),
            ctx,
        )
    with pytest.raises(ToolError, match="not a line tag"):
        await EditLinesTool().run(
            EditLinesInput(path="t.txt", edits=[LineEdit(start="first", new="x")]), ctx
        )


async def test_edit_lines_deletes_with_empty_text(ctx: ToolContext) -> None:
    target = ctx.workspace / "t.txt"
    target.write_text("a\nb\nc\n")
    await EditLinesTool().run(
        EditLinesInput(path="t.txt", edits=[LineEdit(start=line_tag(2, "b"), new="")]), ctx
    )
    assert target.read_text() == "a\nc\n"


async def test_patch_applies_creates_updates_and_deletes(ctx: ToolContext) -> None:
    (ctx.workspace / "a.py").write_text("x = 1\ny = 2\n")
    (ctx.workspace / "old.py").write_text("gone\n")
    changes = [
        FileChange(
            path="a.py",
            action="update",
            hunks=[Hunk(old="x = 1", new="x = 10"), Hunk(old="y = 2", new="y = 20")],
        ),
        FileChange(path="pkg/b.py", action="create", content="b = 1\n"),
        FileChange(path="old.py", action="delete"),
    ]
    result = await PatchTool().run(PatchInput(changes=changes), ctx)
    assert (ctx.workspace / "a.py").read_text() == "x = 10\ny = 20\n"
    assert (ctx.workspace / "pkg/b.py").read_text() == "b = 1\n"
    assert not (ctx.workspace / "old.py").exists()
    assert "updated a.py, created pkg/b.py, deleted old.py" in result.content


async def test_patch_is_all_or_nothing(ctx: ToolContext) -> None:
    (ctx.workspace / "a.py").write_text("x = 1\n")
    (ctx.workspace / "b.py").write_text("y = 1\n")
    changes = [
        FileChange(path="a.py", action="update", hunks=[Hunk(old="x = 1", new="x = 2")]),
        FileChange(path="c.py", action="create", content="new\n"),
        FileChange(path="b.py", action="update", hunks=[Hunk(old="missing", new="z")]),
    ]
    with pytest.raises(ToolError, match=r"refused the whole patch: change 3 \(b.py\), hunk 1"):
        await PatchTool().run(PatchInput(changes=changes), ctx)
    assert (ctx.workspace / "a.py").read_text() == "x = 1\n"
    assert not (ctx.workspace / "c.py").exists()
    with pytest.raises(ToolError, match="already exists"):
        await PatchTool().run(
            PatchInput(changes=[FileChange(path="a.py", action="create", content="z")]), ctx
        )


async def test_patch_restores_written_files_when_a_later_write_fails(ctx: ToolContext) -> None:
    (ctx.workspace / "a.py").write_text("x = 1\n")
    (ctx.workspace / "plain").write_text("a file, so nothing can be created below it\n")
    changes = [
        FileChange(path="a.py", action="update", hunks=[Hunk(old="x = 1", new="x = 2")]),
        FileChange(path="plain/b.py", action="create", content="b\n"),
    ]
    with pytest.raises(ToolError, match=r"cannot write plain/b\.py"):
        await PatchTool().run(PatchInput(changes=changes), ctx)
    assert (ctx.workspace / "a.py").read_text() == "x = 1\n"


async def test_patch_sees_its_own_earlier_changes_to_one_file(ctx: ToolContext) -> None:
    (ctx.workspace / "a.py").write_text("x = 1\n")
    changes = [
        FileChange(path="a.py", action="update", hunks=[Hunk(old="x = 1", new="x = 2")]),
        FileChange(path="a.py", action="update", hunks=[Hunk(old="x = 2", new="x = 3")]),
    ]
    await PatchTool().run(PatchInput(changes=changes), ctx)
    assert (ctx.workspace / "a.py").read_text() == "x = 3\n"


def test_previews_show_the_diff_without_writing(ctx: ToolContext) -> None:
    (ctx.workspace / "a.py").write_text("x = 1\n")
    preview, kind = EditTool().preview(EditInput(path="a.py", old="x = 1", new="x = 2"), ctx)
    assert kind == "diff"
    assert "+x = 2" in preview
    assert (ctx.workspace / "a.py").read_text() == "x = 1\n"
    preview, kind = WriteTool().preview(WriteInput(path="n.py", content="n\n"), ctx)
    assert kind == "diff"
    assert "+n" in preview


async def test_a_file_too_large_to_hold_is_read_as_a_window(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_module, "MAX_EDIT_BYTES", 1000)
    (ctx.workspace / "huge.log").write_text("".join(f"entry {i}\n" for i in range(1, 1001)))
    result = await ReadTool().run(ReadInput(path="huge.log", offset=500, limit=3), ctx)
    assert result.content.splitlines() == [
        "   500\tentry 500",
        "   501\tentry 501",
        "   502\tentry 502",
        "[showing lines 500-502 of a file too large to count; read on with offset=503]",
    ]
    with pytest.raises(ToolError, match="past the end"):
        await ReadTool().run(ReadInput(path="huge.log", offset=5000), ctx)


async def test_read_and_edit_lines_number_form_feeds_alike(ctx: ToolContext) -> None:
    (ctx.workspace / "ff.c").write_text("a\n\x0c\nb\n")
    tagged = await ReadTool().run(ReadInput(path="ff.c", tags=True), ctx)
    tag_of_b = tagged.content.splitlines()[-1].split("\t")[0].strip()
    await EditLinesTool().run(
        EditLinesInput(path="ff.c", edits=[LineEdit(start=tag_of_b, new="B")]), ctx
    )
    assert (ctx.workspace / "ff.c").read_text() == "a\n\x0c\nB\n"
