"""Pure functions that turn tool results into Textual ``Content`` (no widgets, easy to test).

Styles name theme variables (``$diff-add``, ``$error``, …), so a theme switch recolours
everything already on screen. Untrusted text is never parsed as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

if TYPE_CHECKING:
    from collections.abc import Callable

    from arcan_core.protocol.events import ToolDisplay

__all__ = ["clip_lines", "render_diff", "render_display", "render_listing", "render_shell"]

MAX_BODY_LINES = 200
"""Lines of tool output shown in a block; the rest is summarised as "N more lines"."""


def clip_lines(text: str, limit: int = MAX_BODY_LINES) -> tuple[list[str], int]:
    """Return at most ``limit`` lines of ``text`` and how many were left out."""
    lines = text.splitlines()
    if len(lines) <= limit:
        return lines, 0
    return lines[:limit], len(lines) - limit


def _more(hidden: int) -> tuple[str, str]:
    return (f"… {hidden} more lines\n", "$text-muted italic")


def render_diff(diff: str, *, limit: int = MAX_BODY_LINES) -> Content:
    """Colour a unified diff: additions, removals, hunk headers and file headers."""
    lines, hidden = clip_lines(diff, limit)
    parts: list[tuple[str, str] | str] = []
    for line in lines:
        if line.startswith(("+++", "---")):
            parts.append((line + "\n", "bold"))
        elif line.startswith("+"):
            parts.append((line + "\n", "$diff-add"))
        elif line.startswith("-"):
            parts.append((line + "\n", "$diff-remove"))
        elif line.startswith("@@"):
            parts.append((line + "\n", "$diff-hunk"))
        else:
            parts.append(line + "\n")
    if hidden:
        parts.append(_more(hidden))
    return Content.assemble(*parts).rstrip()


def render_shell(
    stdout: str, stderr: str, exit_code: int | None, *, limit: int = MAX_BODY_LINES
) -> Content:
    """Show stdout, stderr (in the error colour) and the exit code."""
    parts: list[tuple[str, str] | str] = []
    out_lines, out_hidden = clip_lines(stdout, limit)
    parts.extend(line + "\n" for line in out_lines)
    if out_hidden:
        parts.append(_more(out_hidden))
    err_lines, err_hidden = clip_lines(stderr, limit)
    parts.extend((line + "\n", "$text-error") for line in err_lines)
    if err_hidden:
        parts.append(_more(err_hidden))
    if exit_code is not None:
        style = "$text-success" if exit_code == 0 else "$text-error bold"
        parts.append((f"exit code {exit_code}", style))
    return Content.assemble(*parts).rstrip()


def render_listing(items: tuple[str, ...], *, limit: int = 20) -> Content:
    """Show the first ``limit`` entries of a search or listing."""
    parts: list[tuple[str, str] | str] = [entry + "\n" for entry in items[:limit]]
    if len(items) > limit:
        parts.append(_more(len(items) - limit))
    return Content.assemble(*parts).rstrip()


def _diff_of(display: ToolDisplay) -> Content | None:
    return render_diff(display.diff) if display.diff else None


def _shell_of(display: ToolDisplay) -> Content | None:
    return render_shell(display.stdout or "", display.stderr or "", display.exit_code)


def _listing_of(display: ToolDisplay) -> Content | None:
    return render_listing(display.items) if display.items else None


_RENDERERS: dict[str, Callable[[ToolDisplay], Content | None]] = {
    "diff": _diff_of,
    "shell": _shell_of,
    "listing": _listing_of,
    "todo": _listing_of,
}
"""``ToolDisplay.kind`` -> renderer; a renderer returning ``None`` falls back to the result text."""


def render_display(display: ToolDisplay | None, result: str, *, is_error: bool) -> Content:
    """Pick the rendering for a finished call from its ``ToolDisplay`` kind."""
    renderer = _RENDERERS.get(display.kind) if display is not None else None
    if display is not None and renderer is not None:
        rendered = renderer(display)
        if rendered is not None:
            return rendered
    lines, hidden = clip_lines(result)
    body = Content.styled("\n".join(lines), "$text-error" if is_error else "")
    if hidden:
        body = Content.assemble(body, "\n", _more(hidden)).rstrip()
    return body
