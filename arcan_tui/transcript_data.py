"""The transcript as data: what was said and done, independent of what is mounted on screen.

Each item is a small mutable record that the event router updates as events arrive and that a
widget renders. Keeping the transcript as data lets the view mount only a bounded window of recent
items (a mounted widget costs layout time on every frame) and re-mount older ones on demand, and
lets ``/export`` write the whole session as Markdown without touching widgets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # Annotations only: the protocol's models load after the first paint.
    from arcan_core.protocol.events import ApprovalRequest, ToolDisplay  # noqa: TC004

__all__ = [
    "AssistantItem",
    "Item",
    "NoticeItem",
    "ThinkingItem",
    "ToolItem",
    "ToolStatus",
    "UserItem",
    "summarize_arguments",
    "to_markdown",
]

ToolStatus = Literal["streaming", "running", "awaiting", "done", "error", "denied"]

_SUMMARY_KEYS = ("command", "cmd", "path", "file_path", "pattern", "query", "url", "glob")
"""Argument names that best say what a call does, in order of preference."""


@dataclass(eq=False)
class Item:
    """Base of every transcript item; ``version`` changes whenever the item should re-render."""

    version: int = field(default=0, init=False)
    live: bool = field(default=False, init=False)

    def touch(self) -> None:
        """Mark the item changed."""
        self.version += 1

    def markdown(self) -> str:
        """Return the item as Markdown, for ``/export``."""
        raise NotImplementedError


@dataclass(eq=False)
class UserItem(Item):
    """A prompt the user sent; ``queued`` while it waits for the running turn's next step."""

    text: str = ""
    queued: bool = False
    images: int = 0

    def markdown(self) -> str:
        """Return the prompt as a quoted block."""
        quoted = "\n".join(f"> {line}" for line in self.text.splitlines() or [""])
        return f"## You\n\n{quoted}\n"


@dataclass(eq=False)
class AssistantItem(Item):
    """The assistant's reply text (Markdown), streamed while ``live``."""

    text: str = ""

    def markdown(self) -> str:
        """Return the reply as is."""
        return f"## arcan\n\n{self.text}\n"


@dataclass(eq=False)
class ThinkingItem(Item):
    """The model's visible reasoning."""

    text: str = ""

    def markdown(self) -> str:
        """Return the reasoning folded in a details element."""
        return f"<details><summary>Thinking</summary>\n\n{self.text}\n\n</details>\n"


@dataclass(eq=False)
class ToolItem(Item):
    """One tool call, from the model's first argument byte to its result."""

    call_id: str = ""
    name: str = ""
    arguments: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    status: ToolStatus = "streaming"
    request: ApprovalRequest | None = None
    output: list[str] = field(default_factory=list)
    output_chars: int = 0
    result: str = ""
    display: ToolDisplay | None = None
    duration_s: float = 0.0

    MAX_LIVE_OUTPUT = 64_000
    """Live output kept for display; older chunks are dropped (the result has the full text)."""

    def add_output(self, chunk: str) -> None:
        """Append live output, dropping the oldest chunks past ``MAX_LIVE_OUTPUT`` characters."""
        self.output.append(chunk)
        self.output_chars += len(chunk)
        while self.output_chars > self.MAX_LIVE_OUTPUT and len(self.output) > 1:
            self.output_chars -= len(self.output.pop(0))
        self.touch()

    def summary(self) -> str:
        """One line that says what the call does."""
        arguments = self.input
        if not arguments and self.arguments:
            try:
                parsed = json.loads(self.arguments)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                arguments = parsed
        return summarize_arguments(arguments) if arguments else ""

    def markdown(self) -> str:
        """Return the call and its result (or diff) in a fence."""
        display = self.display
        body = display.diff if display is not None and display.diff else self.result
        fence = "diff" if display is not None and display.kind == "diff" else ""
        return (
            f"**Tool** `{self.name}` {self.summary()} ({self.status})\n\n"
            f"```{fence}\n{body.rstrip()}\n```\n"
        )


@dataclass(eq=False)
class NoticeItem(Item):
    """Something arcan itself says: an error, a warning, an interruption, a command's answer."""

    text: str = ""
    level: Literal["info", "warning", "error"] = "info"

    def markdown(self) -> str:
        """Return the notice in italics."""
        return f"*{self.text}*\n"


def summarize_arguments(arguments: dict[str, Any], *, width: int = 80) -> str:
    """Return a one-line summary of tool arguments, preferring the key that says the most."""
    value: Any = next((arguments[k] for k in _SUMMARY_KEYS if k in arguments), None)
    if value is None:
        value = " ".join(f"{k}={v}" for k, v in arguments.items() if not isinstance(v, dict | list))
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def to_markdown(items: list[Item], *, title: str = "arcan session") -> str:
    """Render items as a Markdown document (``/export``)."""
    return "\n".join([f"# {title}\n", *(item.markdown() for item in items)])
