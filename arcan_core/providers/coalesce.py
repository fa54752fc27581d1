"""Merge the stream events of one network read into as few as carry the same meaning.

A model streams a reply as many small SSE events; several often arrive in one read of the socket
(always when the transport reads in batches, see ``transport._Socket.hold``). Each stream event
becomes a protocol event, a bus delivery and a front-end update, so a run of text fragments that
arrived together is worth one event, not one per fragment: the concatenated text is the same.

Merged: adjacent text chunks; adjacent thinking chunks that only carry text (one with a signature
or redacted content closes a block and is kept as it is); adjacent argument chunks of the same
tool call. Everything else (a call's begin and end, usage, the stream's end) is kept in
place and ends a run, so the order of meaningful events never changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.providers.base import TextChunk, ThinkingChunk, ToolCallChunk

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arcan_core.providers.base import StreamEvent

__all__ = ["coalesce"]


def _merged(last: StreamEvent, event: StreamEvent) -> StreamEvent | None:
    """Return ``last`` and ``event`` as one event, or ``None`` when they do not merge."""
    if isinstance(event, TextChunk) and isinstance(last, TextChunk):
        return TextChunk(text=last.text + event.text)
    if (
        isinstance(event, ThinkingChunk)
        and isinstance(last, ThinkingChunk)
        and event.signature is None
        and event.redacted is None
        and last.signature is None
        and last.redacted is None
    ):
        return ThinkingChunk(text=last.text + event.text)
    if (
        isinstance(event, ToolCallChunk)
        and isinstance(last, ToolCallChunk)
        and event.call_id == last.call_id
    ):
        return ToolCallChunk(call_id=last.call_id, fragment=last.fragment + event.fragment)
    return None


def coalesce(events: Sequence[StreamEvent]) -> list[StreamEvent]:
    """Return ``events`` with every run of mergeable fragments joined into one event."""
    if len(events) < 2:
        return list(events)
    out: list[StreamEvent] = [events[0]]
    for event in events[1:]:
        merged = _merged(out[-1], event)
        if merged is None:
            out.append(event)
        else:
            out[-1] = merged
    return out
