"""Helpers the file tools share: text decoding, atomic writes, diffs and line tags."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from pathlib import Path

from arcan_core.errors import ToolError

__all__ = [
    "MAX_EDIT_BYTES",
    "atomic_write",
    "line_tag",
    "looks_binary",
    "read_text",
    "unified_diff",
]

MAX_EDIT_BYTES = 10 * 1024 * 1024
"""Files larger than this are not edited in memory (the model should not rewrite them whole)."""
_SNIFF = 8192


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes of a file say it is not text (a NUL byte, or not UTF-8)."""
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        return error.start < len(head) - 4
    return False


def read_text(path: Path, shown: str) -> str:
    """Read a whole text file for editing, keeping its line endings.

    Raises:
        ToolError: the file is missing, a directory, too large, binary or unreadable.
    """
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ToolError(f"{shown} is a directory, not a file")
        if size > MAX_EDIT_BYTES:
            raise ToolError(
                f"{shown} is {size} bytes, too large to edit here",
                hint="edit it with a shell command (sed, a script) instead",
            )
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise ToolError(f"{shown} does not exist", hint="check the path with glob") from error
    except OSError as error:
        raise ToolError(f"cannot read {shown}: {error.strerror}") from error
    if looks_binary(data[:_SNIFF]):
        raise ToolError(f"{shown} is a binary file; it cannot be edited as text")
    return data.decode("utf-8", errors="replace")


_NEW_FILE_MODE = 0o666
"""Asked for when creating a file; the kernel takes the umask (and a default ACL) off it."""
_TMP_ATTEMPTS = 16


def _create_beside(path: Path) -> tuple[int, str]:
    """Create a new, uniquely named file next to ``path``; return its descriptor and name.

    Unlike ``tempfile.mkstemp`` (always 0o600) the file is created with ``_NEW_FILE_MODE``, so a
    file that did not exist before ends up with the mode the user's umask gives any new file.

    Raises:
        FileExistsError: every name tried was taken (practically never).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TMP_ATTEMPTS):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.arcan")
        try:
            return os.open(tmp, flags, _NEW_FILE_MODE), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def atomic_write(path: Path, text: str, shown: str) -> None:
    """Replace ``path`` with ``text`` atomically.

    A replaced file keeps its permission bits; a new one gets ``0o666`` less the umask, as any
    program creating it would give it.

    Raises:
        ToolError: the directory cannot be created or the file cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        fd, tmp = _create_beside(path)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            if mode is not None:
                Path(tmp).chmod(mode)
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
    except OSError as error:
        raise ToolError(f"cannot write {shown}: {error.strerror}") from error


def unified_diff(before: str, after: str, shown: str) -> str:
    """Return the unified diff of one file's change (empty when nothing changed)."""
    import difflib  # noqa: PLC0415 - diffs are for edits; a run that only reads never needs it

    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{shown}",
        tofile=f"b/{shown}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def line_tag(number: int, line: str) -> str:
    """Return the tag of a line: its number and a short hash of its content (``12:a3f0``)."""
    digest = hashlib.blake2b(line.rstrip("\r\n").encode("utf-8"), digest_size=2).hexdigest()
    return f"{number}:{digest}"
