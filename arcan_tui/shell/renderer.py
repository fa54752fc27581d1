"""Events to text for a line-oriented terminal.

Replies stream as plain text the moment they arrive: the only cursor movement while streaming is
the terminal's own. When a stretch of reply text ends (the message is complete, or a tool line or
anything else is about to print) and the terminal is interactive with colour on, the stretch is
re-rendered once as markdown with rich, provided it still fits on the screen; text that scrolled
off is left as it is rather than duplicated. Tool calls print one line as they start and one as they
finish, followed by the diff of an edit or the tail of a command's output.

Handlers are registries keyed by the event's wire type, so adding an event type means adding one
function and one entry, and this module needs no protocol import to load.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from prompt_toolkit.utils import get_cwidth

if TYPE_CHECKING:
    from arcan_core.protocol.events import Event
    from arcan_tui.shell.style import Palette

__all__ = ["Renderer", "summarize_arguments"]

_SUMMARY_KEYS = (
    "path",
    "file_path",
    "command",
    "cmd",
    "pattern",
    "query",
    "url",
    "description",
    "prompt",
)
"""Argument keys that say best what a call is about, in order of preference."""

_SUMMARY_WIDTH = 80


def summarize_arguments(arguments: dict[str, Any]) -> str:
    """Return a one-line summary of a tool call's arguments (the path, the command, …)."""
    for key in _SUMMARY_KEYS:
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return _one_line(value)
    if not arguments:
        return ""
    return _one_line(json.dumps(arguments, ensure_ascii=False, sort_keys=True))


def _one_line(text: str) -> str:
    flat = text.replace("\n", " ⏎ ").strip()
    return flat if len(flat) <= _SUMMARY_WIDTH else flat[: _SUMMARY_WIDTH - 1] + "…"


def _terminal_size() -> tuple[int, int]:
    size = shutil.get_terminal_size()
    return size.columns, size.lines


def rows_needed(text: str, columns: int) -> int:
    """Count the terminal rows ``text`` (ending in a newline) occupies at ``columns`` wide."""
    columns = max(columns, 1)
    lines = text.removesuffix("\n").split("\n")
    return sum(max(1, -(-get_cwidth(line) // columns)) for line in lines)


@dataclass
class _PendingCall:
    name: str
    fragments: list[str] = field(default_factory=list)
    printed: bool = False
    summary: str = ""


Handler = Callable[["Renderer", Any], None]


class Renderer:
    """Writes events to ``out`` as lines of text.

    Args:
        out: where the transcript goes (the terminal, or a file or pipe).
        palette: colours, or none.
        rerender: re-render finished reply text as markdown (interactive terminals only).
        size: returns ``(columns, rows)`` of the terminal.
        diff_lines: the most diff lines printed for one edit.
        tail_lines: how many last lines of a command's output are printed.
    """

    def __init__(
        self,
        out: TextIO,
        palette: Palette,
        *,
        rerender: bool,
        size: Callable[[], tuple[int, int]] = _terminal_size,
        diff_lines: int = 60,
        tail_lines: int = 8,
    ) -> None:
        self.out = out
        self.palette = palette
        self.rerender = rerender
        self._size = size
        self.diff_lines = diff_lines
        self.tail_lines = tail_lines
        self._at_line_start = True
        self._segment: list[str] | None = None
        self._thinking = False
        self._calls: dict[str, _PendingCall] = {}
        self._indent = ""
        self.show_thinking = True
        """Whether the model's visible reasoning is printed (``ui.show_thinking``)."""

    # -- public -------------------------------------------------------------------------------

    def handle(self, event: Event, *, history: bool = False) -> None:
        """Render one event; ``history`` marks a replayed event, shown in compact form."""
        msg = event.msg
        self._indent = "  ↳ " if event.parent_call_id else ""
        table = _HISTORY if history else _LIVE
        handler = table.get(msg.type)
        if event.parent_call_id and msg.type in _STREAMED:
            # A sub-agent's reply reaches the user as its task's result, not as a second stream.
            return
        if msg.type not in _STREAMED:
            self.finish()
        if handler is not None:
            handler(self, msg)
        self.out.flush()

    def finish(self) -> None:
        """End any open stream: reply text (re-rendered if enabled), thinking, tool-start lines."""
        self._end_thinking()
        self._end_segment()
        self._flush_starts()

    def line(self, text: str = "", *styles: str) -> None:
        """Print ``text`` on a line of its own (in ``styles``), ending any open stream first."""
        self.finish()
        self._write(self._indent + self.palette.paint(text, *styles) + "\n")

    def markdown(self, text: str) -> None:
        """Print finished text as markdown when re-rendering is on, else as it is."""
        self.finish()
        if not text.strip():
            return
        if self.rerender:
            self._render_markdown(text)
        else:
            self._write(text if text.endswith("\n") else text + "\n")

    def call_started(self, call_id: str, name: str, arguments: dict[str, Any] | None) -> None:
        """Print the start line of a call now (an approval is about to be asked for it)."""
        pending = self._calls.setdefault(call_id, _PendingCall(name))
        self._print_start(pending, arguments)

    # -- writing --------------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self._at_line_start = text.endswith("\n")

    def _ensure_line_start(self) -> None:
        if not self._at_line_start:
            self._write("\n")

    # -- reply text ----------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        self._end_thinking()
        self._flush_starts()
        if self._segment is None:
            self._ensure_line_start()
            self._segment = []
        self._segment.append(text)
        self._write(text)

    def _end_segment(self) -> None:
        if self._segment is None:
            return
        text = "".join(self._segment)
        self._segment = None
        self._ensure_line_start()
        if not self.rerender or not text.strip():
            return
        columns, rows = self._size()
        used = rows_needed(text, columns)
        if used >= rows:
            # Part of it scrolled away; moving the cursor above the screen is impossible.
            return
        self._write(f"\x1b[{used}A\r\x1b[J")
        self._render_markdown(text)

    def _render_markdown(self, text: str) -> None:
        from rich.console import Console  # noqa: PLC0415 - rich loads on the first reply only
        from rich.markdown import Markdown  # noqa: PLC0415

        columns, _ = self._size()
        console = Console(
            file=self.out,
            width=columns,
            force_terminal=True,
            highlight=False,
            emoji=False,
            soft_wrap=False,
        )
        console.print(Markdown(text))
        self._at_line_start = True

    # -- thinking ------------------------------------------------------------------------------

    def _thinking_delta(self, text: str) -> None:
        self._end_segment()
        self._flush_starts()
        if not self._thinking:
            self._ensure_line_start()
            self._write(self.palette.paint("thinking: ", "dim", "italic"))
            self._thinking = True
        self._write(self.palette.paint(text, "dim", "italic"))

    def _end_thinking(self) -> None:
        if self._thinking:
            self._thinking = False
            self._ensure_line_start()

    # -- tool calls ----------------------------------------------------------------------------

    def _flush_starts(self) -> None:
        for pending in self._calls.values():
            if not pending.printed:
                self._print_start(pending, None)

    def _print_start(self, pending: _PendingCall, arguments: dict[str, Any] | None) -> None:
        if pending.printed:
            return
        if arguments is None:
            try:
                parsed = json.loads("".join(pending.fragments) or "{}")
            except json.JSONDecodeError:
                parsed = {}
            arguments = parsed if isinstance(parsed, dict) else {}
        pending.summary = summarize_arguments(arguments)
        pending.printed = True
        self._ensure_line_start()
        label = self.palette.paint(pending.name, "bold")
        summary = f" {pending.summary}" if pending.summary else ""
        self._write(f"{self._indent}{self.palette.paint('▸', 'cyan')} {label}{summary}\n")

    def _finished_line(self, msg: Any, *, details: bool) -> None:
        pending = self._calls.pop(msg.call_id, None)
        summary = summarize_arguments(msg.input) if msg.input else ""
        if not summary and pending is not None:
            summary = pending.summary
        label = self.palette.paint(msg.name, "bold")
        subject = f"{label} {summary}".rstrip()
        if msg.denied:
            self._write(f"{self._indent}{self.palette.paint('⊘', 'yellow')} {subject} — denied\n")
        elif msg.is_error:
            first = msg.result.strip().splitlines()[0] if msg.result.strip() else "failed"
            mark = self.palette.paint("✗", "red")
            self._write(f"{self._indent}{mark} {subject} — {_one_line(first)}\n")
        else:
            took = self.palette.paint(f"({msg.duration_s:.1f}s)", "dim")
            self._write(f"{self._indent}{self.palette.paint('✓', 'green')} {subject} {took}\n")
        display = msg.display
        if details and display is not None:
            shower = _DISPLAYS.get(display.kind)
            if shower is not None:
                shower(self, display)

    def _show_diff(self, display: Any) -> None:
        if not display.diff:
            return
        lines = display.diff.splitlines()
        for text in lines[: self.diff_lines]:
            self._write(f"{self._indent}    {self._diff_line(text)}\n")
        if len(lines) > self.diff_lines:
            more = f"… {len(lines) - self.diff_lines} more diff lines"
            self._write(f"{self._indent}    {self.palette.paint(more, 'dim')}\n")

    def _diff_line(self, text: str) -> str:
        if text.startswith(("+++", "---")):
            return self.palette.paint(text, "bold")
        style = {"+": "green", "-": "red", "@": "cyan"}.get(text[:1])
        return self.palette.paint(text, style) if style else text

    def _show_shell(self, display: Any) -> None:
        for stream, style in ((display.stdout, ()), (display.stderr, ("yellow",))):
            if not stream:
                continue
            lines = stream.rstrip("\n").splitlines()
            if len(lines) > self.tail_lines:
                skipped = f"… {len(lines) - self.tail_lines} earlier lines"
                self._write(f"{self._indent}    {self.palette.paint(skipped, 'dim')}\n")
            for text in lines[-self.tail_lines :]:
                self._write(f"{self._indent}    {self.palette.paint(text, *style)}\n")
        if display.exit_code is not None and display.exit_code != 0:
            code = self.palette.paint(f"exit {display.exit_code}", "red")
            self._write(f"{self._indent}    {code}\n")

    def _show_items(self, display: Any) -> None:
        items = list(display.items)
        for item in items[: self.tail_lines]:
            self._write(f"{self._indent}    {item}\n")
        if len(items) > self.tail_lines:
            more = f"… {len(items) - self.tail_lines} more"
            self._write(f"{self._indent}    {self.palette.paint(more, 'dim')}\n")


# -- live handlers -------------------------------------------------------------------------------


def _on_text(r: Renderer, msg: Any) -> None:
    r._text(msg.text)


def _on_thinking(r: Renderer, msg: Any) -> None:
    if r.show_thinking:
        r._thinking_delta(msg.text)


def _on_tool_started(r: Renderer, msg: Any) -> None:
    r._end_segment()
    r._end_thinking()
    r._flush_starts()
    r._calls[msg.call_id] = _PendingCall(msg.name)


def _on_arguments(r: Renderer, msg: Any) -> None:
    pending = r._calls.get(msg.call_id)
    if pending is not None and not pending.printed:
        pending.fragments.append(msg.fragment)


def _on_awaiting(r: Renderer, msg: Any) -> None:
    r.call_started(msg.call_id, msg.name, msg.input)


def _on_finished(r: Renderer, msg: Any) -> None:
    r._finished_line(msg, details=True)


def _on_retry(r: Renderer, msg: Any) -> None:
    r.line(f"retrying in {msg.delay_s:.1f}s (attempt {msg.attempt}): {msg.reason}", "dim")


def _on_error(r: Renderer, msg: Any) -> None:
    r.line(f"error: {msg.message}", "red", "bold")
    if msg.hint:
        r.line(f"hint: {msg.hint}", "dim")


def _on_warning(r: Renderer, msg: Any) -> None:
    r.line(f"warning: {msg.message}", "yellow")


def _on_turn_finished(r: Renderer, msg: Any) -> None:
    notes = {
        "interrupted": ("interrupted", "yellow"),
        "max_tokens": ("the reply was cut at the output limit", "yellow"),
        "refusal": ("the model refused", "yellow"),
    }
    note = notes.get(msg.stop_reason)
    if note is not None:
        r.line(note[0], note[1])
    parts = []
    if msg.steps:
        parts.append(f"{msg.steps} step{'s' if msg.steps != 1 else ''}")
    if msg.duration_s:
        parts.append(f"{msg.duration_s:.1f}s")
    if msg.cost_usd:
        parts.append(f"${msg.cost_usd:.4f}")
    if parts:
        r.line(" · ".join(parts), "dim")


def _on_compacted(r: Renderer, msg: Any) -> None:
    how = "dropped" if msg.fallback else "summarised"
    tokens = ""
    if msg.tokens_before:
        tokens = f" ({msg.tokens_before:,} → {msg.tokens_after:,} tokens)"
    r.line(f"context compacted: {msg.replaced} older messages {how}{tokens}", "cyan")


def _on_restored(r: Renderer, msg: Any) -> None:
    r.line(f"restored {len(msg.paths)} file{'s' if len(msg.paths) != 1 else ''}", "cyan")
    for path in msg.paths:
        r.line(f"  {path}")


def _on_model(r: Renderer, msg: Any) -> None:
    r.line(f"model: {msg.provider}/{msg.model}", "dim")


def _on_mode(r: Renderer, msg: Any) -> None:
    r.line(f"mode: {msg.mode}", "dim")


def _on_reasoning(r: Renderer, msg: Any) -> None:
    unused = "" if msg.applies else " (this model does not reason)"
    r.line(f"effort: {msg.effort}{unused}", "dim")


def _on_harness(r: Renderer, msg: Any) -> None:
    r.line(f"harness: {'on' if msg.enabled else 'off'}", "dim")


def _on_queued(r: Renderer, msg: Any) -> None:
    r.line(f"queued: {_one_line(msg.text)}", "dim")


def _on_sensor(r: Renderer, msg: Any) -> None:
    value = f" {msg.value}" if msg.value else ""
    style = {"met": "green", "unmet": "red", "error": "red"}.get(msg.status, "dim")
    r.line(f"check {msg.sensor}: {msg.status}{value}", style)


def _on_decision(r: Renderer, msg: Any) -> None:
    if msg.mode in ("continue", "idle"):
        return
    because = f" — {msg.rationale}" if msg.rationale else ""
    r.line(f"harness: {msg.mode}{because}", "magenta")


def _on_message(r: Renderer, msg: Any) -> None:
    # The live reply already streamed; reaching its record is the signal that the text is whole.
    del r, msg


# -- history (replayed) handlers -----------------------------------------------------------------


def _history_prompt(r: Renderer, msg: Any) -> None:
    r.line(f"> {msg.prompt}", "bold")


def _history_message(r: Renderer, msg: Any) -> None:
    if msg.message.role == "assistant":
        r.markdown(msg.message.text())


def _history_finished(r: Renderer, msg: Any) -> None:
    r._finished_line(msg, details=False)


_STREAMED = frozenset({"text_delta", "thinking_delta", "tool_call_arguments_delta"})
"""Events that continue a stream rather than end it."""

_LIVE: dict[str, Handler] = {
    "text_delta": _on_text,
    "thinking_delta": _on_thinking,
    "tool_call_started": _on_tool_started,
    "tool_call_arguments_delta": _on_arguments,
    "tool_call_awaiting_approval": _on_awaiting,
    "tool_call_finished": _on_finished,
    "retry_scheduled": _on_retry,
    "error": _on_error,
    "warning": _on_warning,
    "turn_finished": _on_turn_finished,
    "context_compacted": _on_compacted,
    "files_restored": _on_restored,
    "model_changed": _on_model,
    "mode_changed": _on_mode,
    "reasoning_changed": _on_reasoning,
    "harness_toggled": _on_harness,
    "prompt_queued": _on_queued,
    "sensor_reading": _on_sensor,
    "controller_decision": _on_decision,
    "message_appended": _on_message,
}

_HISTORY: dict[str, Handler] = {
    "turn_started": _history_prompt,
    "message_appended": _history_message,
    "tool_call_finished": _history_finished,
    "error": _on_error,
    "context_compacted": _on_compacted,
    "files_restored": _on_restored,
}

_DISPLAYS: dict[str, Handler] = {
    "diff": Renderer._show_diff,
    "shell": Renderer._show_shell,
    "listing": Renderer._show_items,
    "todo": Renderer._show_items,
}
"""How the details of a finished call are shown, by ``ToolDisplay.kind``."""
