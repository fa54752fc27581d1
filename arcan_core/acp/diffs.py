"""Unified diffs to the whole-file texts ACP shows.

arcan's edit tools describe a change as a unified diff (``ToolDisplay.diff``, an approval's
preview); an ACP ``diff`` content block wants the file's path, old text and new text. The old text
is the file before the change: for an approval the file on disk, for a finished edit the file on
disk with the diff applied in reverse. A diff that does not apply gives ``None``, and the caller
falls back to showing the diff as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["FilePatch", "Hunk", "parse_unified_diff"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


@dataclass
class Hunk:
    """One ``@@`` section: where it starts on each side, and its lines with their markers."""

    old_start: int
    new_start: int
    lines: list[str] = field(default_factory=list)
    """Lines with their ``' '``, ``'-'`` or ``'+'`` marker and their line ending."""

    def side(self, *, new: bool) -> list[str]:
        """The lines of one side (context plus removed, or context plus added)."""
        keep = " +" if new else " -"
        return [line[1:] for line in self.lines if line[:1] in keep]


@dataclass
class FilePatch:
    """The change of one file: its paths (``None`` for ``/dev/null``) and its hunks."""

    old_path: str | None
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The file's path as the diff names it, without the ``a/`` or ``b/`` prefix."""
        return self.new_path or self.old_path or ""

    def apply(self, text: str, *, reverse: bool = False) -> str | None:
        """Apply the patch to ``text`` (undo it with ``reverse``); ``None`` if it does not fit."""
        lines = text.splitlines(keepends=True)
        # Later hunks first, so earlier line numbers stay valid.
        for hunk in sorted(self.hunks, key=lambda h: h.new_start, reverse=True):
            before, after = hunk.side(new=reverse), hunk.side(new=not reverse)
            start = (hunk.new_start if reverse else hunk.old_start) - 1
            start = max(start, 0) if before else max(start + 1, 0)
            if lines[start : start + len(before)] != before:
                return None
            lines[start : start + len(before)] = after
        return "".join(lines)


def _strip_prefix(raw: str) -> str | None:
    path = raw.split("\t", 1)[0].strip()
    if path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def parse_unified_diff(diff: str) -> list[FilePatch]:
    """Parse a (possibly multi-file) unified diff; unknown lines between files are skipped."""
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    hunk: Hunk | None = None
    lines = diff.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.startswith("--- ") and following.startswith("+++ "):
            current = FilePatch(_strip_prefix(line[4:]), _strip_prefix(following[4:]))
            patches.append(current)
            hunk = None
            index += 2
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            hunk = Hunk(old_start=int(match.group(1)), new_start=int(match.group(3)))
            current.hunks.append(hunk)
        elif hunk is not None and line.startswith(_NO_NEWLINE):
            # The previous line had no newline at the end of its file.
            if hunk.lines:
                hunk.lines[-1] = hunk.lines[-1].rstrip("\n")
        elif hunk is not None and line[:1] in (" ", "-", "+"):
            hunk.lines.append(line)
        elif hunk is not None and line in ("\n", "\r\n"):
            # Some writers drop the marker of an empty context line.
            hunk.lines.append(" " + line)
        index += 1
    return patches
