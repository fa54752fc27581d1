"""Bounded, scrubbed output: nothing unbounded or secret reaches the model, the log or a UI.

``trim_middle`` keeps the head and the tail of a long text and says how much it left out;
``HeadTailBuffer`` does the same for a stream (shell output) without holding all of it;
``scrub`` redacts secrets (through ``arcan_core.config.secrets.redact``, the one scrubber).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.config.secrets import redact

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAX_RESULT_CHARS", "HeadTailBuffer", "scrub", "trim_middle"]

MAX_RESULT_CHARS = 40_000
"""The most any one tool result may put into the model's context (about 10k tokens)."""


def scrub(text: str, env: Mapping[str, str] | None = None) -> str:
    """Redact secrets the process holds and strings shaped like provider keys."""
    return redact(text, env=env)


def trim_middle(text: str, limit: int = MAX_RESULT_CHARS, *, unit: str = "characters") -> str:
    """Return ``text`` whole when short, else its head and tail around a note of what was cut."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    note = f"\n[... {cut} {unit} elided: the output was too long; narrow the request ...]\n"
    return text[:head] + note + text[-tail:]


class HeadTailBuffer:
    """Collects a stream, keeping the first ``head`` and the last ``tail`` characters."""

    __slots__ = ("_dropped", "_head", "_head_len", "_head_limit", "_tail", "_tail_limit")

    def __init__(self, head: int, tail: int) -> None:
        self._head_limit = head
        self._tail_limit = tail
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self._dropped = 0

    def write(self, chunk: str) -> None:
        """Add ``chunk`` to the stream."""
        room = self._head_limit - self._head_len
        if room > 0:
            kept = chunk[:room]
            self._head.append(kept)
            self._head_len += len(kept)
            chunk = chunk[room:]
        if not chunk:
            return
        joined = self._tail + chunk
        overflow = len(joined) - self._tail_limit
        if overflow > 0:
            self._dropped += overflow
            joined = joined[overflow:]
        self._tail = joined

    @property
    def elided(self) -> int:
        """How many characters were dropped from the middle."""
        return self._dropped

    def text(self) -> str:
        """Return what was kept, with a note where the middle was dropped."""
        head = "".join(self._head)
        if self._dropped:
            return f"{head}\n[... {self._dropped} characters elided ...]\n{self._tail}"
        return head + self._tail
