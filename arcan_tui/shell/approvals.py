"""Inline approval questions answered with one key.

``y`` allows this call once, ``a`` allows it always (the widest scope the core offers: the suggested
pattern, else the project, else the session), ``n`` denies it and asks for an optional reason that
goes to the model. Ctrl+C denies and interrupts the turn. Questions that arrive together are asked
one after another, numbered "1 of 3". Anything typed before a question appears is thrown away
first, so type-ahead can never answer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from prompt_toolkit.keys import Keys

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from arcan_core.protocol.events import ApprovalRequest, ToolCallAwaitingApproval
    from arcan_tui.shell.keys import KeyReader
    from arcan_tui.shell.renderer import Renderer

__all__ = ["ApprovalAnswer", "ApprovalPrompter", "always_scope"]

_ALWAYS_ORDER = ("pattern", "project", "session")
"""Scopes an "always" answer may take, widest first."""


@dataclass(frozen=True)
class ApprovalAnswer:
    """What the user said; maps one to one onto the ``AnswerApproval`` operation."""

    decision: Literal["allow", "deny"]
    scope: Literal["once", "session", "project", "pattern"] = "once"
    pattern: str | None = None
    reason: str | None = None
    interrupt: bool = False


def always_scope(request: ApprovalRequest) -> ApprovalAnswer | None:
    """Return the "always" answer the request allows, or ``None`` if it offers none."""
    for scope in _ALWAYS_ORDER:
        if scope not in request.scopes:
            continue
        if scope == "pattern":
            if request.suggested_pattern:
                return ApprovalAnswer("allow", "pattern", pattern=request.suggested_pattern)
            continue
        return ApprovalAnswer("allow", scope)
    return None


class ApprovalPrompter:
    """Shows an approval request and reads the answer key.

    Args:
        renderer: where the request is printed.
        keys: the key reader (already listening).
        read_reason: asks for a one-line reason after ``n``; may return an empty string.
    """

    def __init__(
        self,
        renderer: Renderer,
        keys: KeyReader,
        read_reason: Callable[[], Awaitable[str]],
    ) -> None:
        self._renderer = renderer
        self._keys = keys
        self._read_reason = read_reason

    async def ask(
        self, awaiting: ToolCallAwaitingApproval, *, position: int = 1, total: int = 1
    ) -> ApprovalAnswer:
        """Ask about one call and return the answer."""
        request = awaiting.request
        always = always_scope(request)
        self._show(awaiting, always, position=position, total=total)
        self._keys.discard_pending()
        answer = await self._read_answer(always)
        self._echo(answer)
        if answer.decision == "deny" and not answer.interrupt and not answer.reason:
            reason = (await self._read_reason()).strip()
            if reason:
                answer = ApprovalAnswer("deny", reason=reason)
        return answer

    def _show(
        self,
        awaiting: ToolCallAwaitingApproval,
        always: ApprovalAnswer | None,
        *,
        position: int,
        total: int,
    ) -> None:
        r = self._renderer
        paint = r.palette.paint
        request = awaiting.request
        r.call_started(awaiting.call_id, awaiting.name, awaiting.input)
        count = f" ({position} of {total})" if total > 1 else ""
        r.line(f"approve {request.tool}: {request.summary}{count}", "yellow", "bold")
        r.line(f"  because {request.reason} · in {request.cwd}", "dim")
        preview = request.preview.rstrip("\n")
        if preview:
            shaper = _PREVIEWS.get(request.preview_kind, _plain_preview)
            for text in shaper(preview, paint).splitlines():
                r.line(f"    {text}")
        choices = [f"{paint('y', 'bold')} once"]
        if always is not None:
            where = always.pattern or f"this {always.scope}"
            choices.append(f"{paint('a', 'bold')} always ({where})")
        choices.append(f"{paint('n', 'bold')} deny")
        r.finish()
        r.out.write("  " + "  ".join(choices) + " ? ")
        r.out.flush()

    async def _read_answer(self, always: ApprovalAnswer | None) -> ApprovalAnswer:
        while True:
            key = await self._keys.next_key()
            if key is None:
                # No one is there to answer: refuse rather than guess.
                return ApprovalAnswer("deny", reason="no input to answer the approval")
            if key.key == Keys.ControlC:
                return ApprovalAnswer("deny", interrupt=True)
            choice = key.data.lower() if len(key.data) == 1 else ""
            if choice == "y":
                return ApprovalAnswer("allow")
            if choice == "a" and always is not None:
                return always
            if choice == "n":
                return ApprovalAnswer("deny")

    def _echo(self, answer: ApprovalAnswer) -> None:
        out = self._renderer.out
        if answer.decision == "allow":
            said = "allowed once" if answer.scope == "once" else f"allowed ({answer.scope})"
            out.write(self._renderer.palette.paint(said, "green") + "\n")
        else:
            said = "denied" + (f": {answer.reason}" if answer.reason else "")
            if answer.interrupt:
                said += ", interrupting"
            out.write(self._renderer.palette.paint(said, "red") + "\n")
        out.flush()


def _plain_preview(preview: str, paint: Callable[..., str]) -> str:
    del paint
    return preview


def _command_preview(preview: str, paint: Callable[..., str]) -> str:
    return paint("$ ", "dim") + preview


def _diff_preview(preview: str, paint: Callable[..., str]) -> str:
    styles = {"+": "green", "-": "red", "@": "cyan"}
    shaped = []
    for text in preview.splitlines():
        style = None if text.startswith(("+++", "---")) else styles.get(text[:1])
        shaped.append(paint(text, style) if style else text)
    return "\n".join(shaped)


_PREVIEWS: dict[str, Callable[[str, Callable[..., str]], str]] = {
    "text": _plain_preview,
    "command": _command_preview,
    "diff": _diff_preview,
}
