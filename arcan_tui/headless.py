"""The headless printer of ``arcan exec``: the answer on stdout, progress on stderr.

Plain mode writes one stderr line per tool call, retry, warning, error and compaction, and a
final line with steps, tokens, cost and time; the final answer of the task goes to stdout alone,
so ``arcan exec "…" > answer.md`` captures just the answer. ``--json`` writes every event the
session log keeps (deltas excluded) to stdout as JSON lines instead.

No Textual or Rich here: ``arcan exec`` must start fast.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arcan_core.agent.bus import is_logged
from arcan_core.config.secrets import Redactor
from arcan_core.protocol.events import (
    ContextCompacted,
    ErrorEvent,
    FilesRestored,
    MessageAppended,
    PromptQueued,
    RetryScheduled,
    ToolCallFinished,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.events import Warning as WarningEvent

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from arcan_core.protocol.events import Event, EventMsg

__all__ = ["HeadlessPrinter", "RunSummary", "describe_call", "skip_httpx_cli"]

_ARG_CHARS = 80


def describe_call(name: str, args: dict[str, Any]) -> str:
    """Return ``name`` and its most telling argument, on one short line."""
    for key in ("command", "path", "file_path", "pattern", "url", "query", "description"):
        value = args.get(key)
        if isinstance(value, str) and value:
            shown = " ".join(value.split())
            if len(shown) > _ARG_CHARS:
                shown = shown[: _ARG_CHARS - 1] + "…"
            return f"{name} {shown}"
    return name


@dataclass
class RunSummary:
    """What the run came to, for the exit code and the final line."""

    stop_reason: str | None = None
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    answer: str = ""
    errors: int = 0
    denied: int = 0


class HeadlessPrinter:
    """Turns core events into ``arcan exec`` output."""

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        *,
        json_lines: bool = False,
        redactor: Callable[[str], str] | None = None,
    ) -> None:
        """Print to ``out`` and ``err``; ``redactor`` scrubs all output (default: ``Redactor()``).

        The JSON lines are the session log's events, so they pass through the same scrubber the
        log uses: a pipeline reading ``--json`` must not see a key the log file would not hold.
        The plain answer and progress lines are scrubbed the same way, for the same reason.
        """
        self._out = out
        self._err = err
        self._json = json_lines
        self._redact = redactor or Redactor()
        self.summary = RunSummary()
        self._turn_id: str | None = None
        self._handlers: dict[type, Callable[[Any, str], None]] = {
            TurnStarted: self._turn_started,
            MessageAppended: self._message,
            ToolCallFinished: self._tool,
            RetryScheduled: self._retry,
            WarningEvent: self._warning,
            ErrorEvent: self._error,
            ContextCompacted: self._compacted,
            PromptQueued: self._queued,
            FilesRestored: self._restored,
            TurnFinished: self._finished,
        }

    def handle(self, event: Event) -> None:
        """Print what ``event`` means for the user."""
        msg = event.msg
        if self._json and is_logged(msg):
            self._out.write(self._redact(event.to_json()) + "\n")
            self._out.flush()
        handler = self._handlers.get(type(msg))
        if handler is not None:
            indent = "    " if event.parent_call_id is not None else "  "
            if event.parent_call_id is not None and not isinstance(msg, ToolCallFinished):
                return  # a sub-agent's own messages are its business; its tool calls show
            handler(msg, indent)

    def _line(self, text: str) -> None:
        if self._json:
            return
        # Progress quotes commands and errors, which may hold a key: scrubbed like the log.
        self._err.write(self._redact(text) + "\n")
        self._err.flush()

    def _turn_started(self, msg: TurnStarted, indent: str) -> None:
        del indent
        self._turn_id = msg.turn_id

    def _message(self, msg: MessageAppended, indent: str) -> None:
        del indent
        if msg.message.role == "assistant":
            text = msg.message.text().strip()
            if text:
                self.summary.answer = text

    def _tool(self, msg: ToolCallFinished, indent: str) -> None:
        mark = "✓"
        tail = ""
        if msg.denied:
            mark = "⊘"
            self.summary.denied += 1
            # The executor's denial is one sentence that ends with how to allow the call: shown
            # whole (not cut at 120 characters), without repeating the ⊘'s "denied".
            reason = msg.result.strip().splitlines()[0] if msg.result.strip() else ""
            tail = f" — {reason.removeprefix('denied: ')}"
        elif msg.is_error:
            mark = "✗"
            tail = f" — {_first_line(msg.result)}"
        self._line(f"{indent}{mark} {describe_call(msg.name, msg.input)}{tail}")

    def _retry(self, msg: RetryScheduled, indent: str) -> None:
        self._line(f"{indent}retrying in {msg.delay_s:.1f} s (attempt {msg.attempt}): {msg.reason}")

    def _warning(self, msg: WarningEvent, indent: str) -> None:
        del indent
        self._line(f"arcan: warning: {msg.message}")

    def _error(self, msg: ErrorEvent, indent: str) -> None:
        del indent
        self.summary.errors += 1
        self._line(f"arcan: {msg.message}")
        if msg.hint:
            self._line(f"hint: {msg.hint}")

    def _compacted(self, msg: ContextCompacted, indent: str) -> None:
        how = "dropped" if msg.fallback else "summarised"
        self._line(f"{indent}context compacted: {msg.replaced} older messages {how}")

    def _queued(self, msg: PromptQueued, indent: str) -> None:
        self._line(f"{indent}queued: {_first_line(msg.text)}")

    def _restored(self, msg: FilesRestored, indent: str) -> None:
        self._line(f"{indent}restored {len(msg.paths)} file(s)")

    def _finished(self, msg: TurnFinished, indent: str) -> None:
        del indent
        if self._turn_id is not None and msg.turn_id != self._turn_id:
            return
        summary = self.summary
        summary.stop_reason = msg.stop_reason
        summary.steps = msg.steps
        summary.input_tokens = msg.usage.context_tokens
        summary.output_tokens = msg.usage.output_tokens
        summary.cost_usd = msg.cost_usd
        summary.duration_s = msg.duration_s

    def final(self, *, note: str | None = None) -> None:
        """Write the answer to stdout (plain mode) and the summary line to stderr."""
        summary = self.summary
        if not self._json and summary.answer:
            self._out.write(self._redact(summary.answer) + "\n")
            self._out.flush()
        tokens = summary.input_tokens + summary.output_tokens
        steps = "step" if summary.steps == 1 else "steps"
        line = (
            f"arcan: {summary.steps} {steps} · {tokens:,} tokens "
            f"({summary.input_tokens:,} in, {summary.output_tokens:,} out) · "
            f"${summary.cost_usd:.4f} · {summary.duration_s:.2f} s"
        )
        if note:
            line += f" · {note}"
        self._line(line)


class _RefuseHttpxCli:
    """A meta-path finder that makes ``import httpx._main`` fail."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        """Refuse httpx's command-line module; leave every other import alone."""
        del path, target
        if name == "httpx._main":
            raise ImportError("arcan does not use the httpx command-line client")


def skip_httpx_cli() -> None:
    """Keep ``import httpx`` from loading its optional command-line client.

    httpx imports ``httpx._main`` (which pulls in rich, click and pygments: about 60 ms) whenever
    those packages are installed, which they are beside Textual. httpx catches the ImportError
    and goes on without its CLI, which arcan never uses. Call before the first provider import.
    """
    if "httpx" in sys.modules or any(isinstance(f, _RefuseHttpxCli) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _RefuseHttpxCli())


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 120 else line[:119] + "…"


def json_line(msg: EventMsg) -> str:
    """Serialise a payload as one JSON line (for tests and tools that want payloads alone)."""
    return json.dumps(msg.model_dump(mode="json"), ensure_ascii=False)
