"""An incremental Server-Sent Events parser: bytes in any chunking, the same events out.

It follows the WHATWG event-stream rules: lines end with CRLF, LF or CR (a CRLF split across two
chunks counts once); lines starting with ``:`` are comments; ``data:`` lines accumulate, joined
by newlines; ``event:``, ``id:`` and ``retry:`` set the event's type, the last event id and the
reconnection delay; a blank line dispatches the event. One departure, on purpose: ``close()``
dispatches a final event that was not followed by a blank line, because some servers end the
stream that way and dropping their last event would lose the reply's end.

Bytes are decoded as UTF-8 incrementally, so a multi-byte character split between chunks is
kept whole.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

__all__ = ["SSEDecoder", "SSEEvent"]


class SSEEvent(NamedTuple):
    """One dispatched event (a named tuple: the cheapest immutable record to make per event).

    Attributes:
        event: the event type (``message`` when the stream named none).
        data: the data lines joined with newlines.
        id: the last event id seen so far in the stream, or ``None``.
        retry: the reconnection delay in milliseconds the server last asked for, or ``None``.
    """

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed bytes with ``feed()``; call ``close()`` at end of stream for a trailing event."""

    __slots__ = (
        "_buffer",
        "_data",
        "_decoder",
        "_event",
        "_has_data",
        "_last_id",
        "_retry",
        "_skip_lf",
        "_started",
    )

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._skip_lf = False
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._has_data = False
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume ``chunk`` and return the events it completed (possibly none)."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._skip_lf:
            self._skip_lf = False
            text = text.removeprefix("\n")
        if "\r" in text:
            # A CR at the very end may be the first half of a CRLF: the line ends here either
            # way, and a LF opening the next chunk must then be skipped.
            self._skip_lf = text.endswith("\r")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self._buffer:
            text = self._buffer + text
        lines = text.split("\n")
        self._buffer = lines.pop()
        return self._process(lines)

    def close(self) -> list[SSEEvent]:
        """End the stream: return the last event if it lacked its terminating blank line."""
        tail = self._decoder.decode(b"", final=True)
        lines = (self._buffer + tail).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = ""
        events = self._process([line for line in lines if line])
        if self._has_data:
            events.append(self._dispatch_event())
        return events

    def _process(self, lines: list[str]) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        for line in lines:
            if not line:
                if self._has_data:
                    events.append(self._dispatch_event())
                else:
                    self._event = ""
                continue
            if line[0] == ":":
                continue
            name, colon, value = line.partition(":")
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data.append(value)
                self._has_data = True
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._last_id = value
            elif name == "retry" and value.isdigit() and value.isascii():
                self._retry = int(value)
        return events

    def _dispatch_event(self) -> SSEEvent:
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        event = SSEEvent(
            event=self._event or "message", data=data, id=self._last_id, retry=self._retry
        )
        self._event = ""
        self._data = []
        self._has_data = False
        return event
