"""Path resolution for tools: symlinks followed, and every path checked against the allowed roots.

A tool never opens a path the model gave without ``resolve_inside``: the path is made absolute
against the workspace, every symlink on the way is followed, ``..`` is applied after that (as the
kernel does), and the result must lie inside the workspace, a directory the user added, or a path
the user approved for this session. Anything else raises ``PathEscapeError``; the executor turns
that, before the call runs, into an approval request (see ``policy``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from arcan_core.errors import PathEscapeError, ToolInputError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["display_path", "is_inside", "resolve_inside", "resolve_path"]


def resolve_path(raw: str | Path, workspace: Path) -> Path:
    """Return ``raw`` made absolute against ``workspace``, with symlinks and ``..`` resolved.

    The path need not exist. No containment check is made (see ``resolve_inside``).

    Raises:
        ToolInputError: the path is empty, holds a NUL byte, or runs into a symlink loop.
    """
    text = str(raw)
    if not text.strip():
        raise ToolInputError("the path is empty", hint="give a path relative to the workspace")
    if "\x00" in text:
        raise ToolInputError("the path contains a NUL byte")
    candidate = Path(text).expanduser() if text.startswith("~") else Path(text)
    if not candidate.is_absolute():
        candidate = workspace / candidate
    try:
        # realpath, not Path.resolve: it applies ".." after following each symlink, like the kernel.
        resolved = os.path.realpath(candidate, strict=False)
        # On a symlink loop realpath gives up and joins the rest of the path unresolved, so
        # "loop/../link" comes back as ".../link" with "link" never followed. The kernel refuses
        # such a path (ELOOP); a result that is not a fixed point of realpath betrays it.
        if os.path.realpath(resolved, strict=False) != resolved:
            raise ToolInputError(
                f"cannot resolve {text!r}: it runs into a symlink loop",
                hint="name the file by a path that does not pass through the loop",
            )
        return Path(resolved)
    except (OSError, RuntimeError, ValueError) as error:
        raise ToolInputError(f"cannot resolve {text!r}: {error}") from error


def is_inside(path: Path, roots: Iterable[Path]) -> bool:
    """Return whether the resolved ``path`` is one of ``roots`` or lies below one of them."""
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_inside(
    raw: str | Path,
    workspace: Path,
    roots: Iterable[Path] = (),
    allowed: Iterable[Path] = (),
) -> Path:
    """Resolve ``raw`` and require it to lie inside ``workspace``, ``roots`` or ``allowed``.

    ``workspace`` and ``roots`` must already be resolved; ``allowed`` are single paths the user
    approved (each also admits what lies below it).

    Raises:
        PathEscapeError: the resolved path lies outside every allowed place.
        ToolInputError: the path cannot be resolved at all.
    """
    path = resolve_path(raw, workspace)
    if is_inside(path, (workspace, *roots, *allowed)):
        return path
    raise PathEscapeError(
        f"{raw!s} resolves to {path}, outside the workspace {workspace}",
        hint="use a path inside the workspace, or ask the user to add the directory",
    )


def display_path(path: Path, workspace: Path) -> str:
    """Return ``path`` relative to the workspace when it lies inside, else absolute (POSIX form)."""
    if path == workspace:
        return "."
    if path.is_relative_to(workspace):
        return path.relative_to(workspace).as_posix()
    return path.as_posix()
