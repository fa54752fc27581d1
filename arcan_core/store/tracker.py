"""Summaries from events: kept live by the writer, or rebuilt by scanning a log's raw bytes."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from arcan_core.protocol.events import ModelChanged, TurnStarted
from arcan_core.store.summary import SessionMeta, title_from_prompt

if TYPE_CHECKING:
    from datetime import datetime

    from arcan_core.protocol.events import Event
    from arcan_core.protocol.records import SessionHeader

__all__ = ["SummaryTracker", "scan_log"]

_MARKS = (b'"type":"turn_started"', b'"type":"model_changed"')
"""Byte patterns of the records that change a summary (JSON escapes quotes inside strings)."""


class SummaryTracker:
    """The running summary of a session, updated event by event (the writer keeps one)."""

    def __init__(self, header: SessionHeader) -> None:
        self.id = header.session_id
        self.title = header.title
        self.created: datetime = header.created
        self.updated: datetime = header.created
        self.turns = 0
        self.model = header.model
        self.provider = header.provider

    def observe(self, event: Event) -> None:
        """Fold one event into the summary (a sub-agent's events count only as activity)."""
        self.updated = max(self.updated, event.ts)
        if event.parent_call_id is not None:
            return
        msg = event.msg
        if isinstance(msg, TurnStarted):
            self.turns += 1
            if not self.title:
                self.title = title_from_prompt(msg.prompt)
        elif isinstance(msg, ModelChanged):
            self.model, self.provider = msg.model, msg.provider

    def meta(self, size: int) -> SessionMeta:
        """Return the sidecar for a log of ``size`` bytes."""
        return SessionMeta(
            id=self.id,
            title=self.title,
            created=self.created,
            updated=self.updated,
            turns=self.turns,
            model=self.model,
            provider=self.provider,
            size=size,
        )


def _marked_lines(data: bytes, marks: tuple[bytes, ...]) -> list[bytes]:
    """The lines (after the header) that contain any of ``marks``, in file order."""
    spans: set[tuple[int, int]] = set()
    for mark in marks:
        at = data.find(mark)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            if start > 0:
                spans.add((start, end))
            at = data.find(mark, end)
    return [data[start:end] for start, end in sorted(spans)]


def scan_log(data: bytes) -> SessionMeta:
    """Summarize a log from its raw bytes, parsing only the lines that can change the summary.

    A byte search finds the candidate lines (turn starts, model changes); each is parsed, so text
    that merely looks like such a record (inside a tool's input, say) is not miscounted.

    Raises:
        UnreadableRecordError: the first line is not a session header.
        SchemaVersionError: the header was written by a newer arcan.
    """
    # Listing needs the reader; the writer, which keeps a tracker too, does not.
    from arcan_core.store.reader import (  # noqa: PLC0415
        UnreadableRecordError,
        parse_event_line,
        parse_header_line,
    )

    first_end = data.find(b"\n")
    header = parse_header_line(data if first_end < 0 else data[:first_end])
    tracker = SummaryTracker(header)
    for line in _marked_lines(data, _MARKS):
        with contextlib.suppress(UnreadableRecordError):
            tracker.observe(parse_event_line(line))
    # The last complete line gives the last timestamp; a cut tail is skipped.
    if first_end >= 0:
        for line in reversed(data[first_end + 1 :].rstrip(b"\n").rsplit(b"\n", 2)):
            with contextlib.suppress(UnreadableRecordError):
                tracker.updated = max(tracker.updated, parse_event_line(line).ts)
                break
    return tracker.meta(len(data))
