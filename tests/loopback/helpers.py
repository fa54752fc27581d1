"""Small helpers for driving a provider against the loopback server in tests."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from arcan_core.errors import ProviderError
from arcan_core.providers.assemble import ReplyAssembler

if TYPE_CHECKING:
    from arcan_core.providers.base import Provider, ProviderRequest, StreamEvent

__all__ = ["RecordingSleep", "run_stream", "run_until_error"]


class RecordingSleep:
    """An injectable ``sleep`` that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


async def run_stream(
    provider: Provider, request: ProviderRequest
) -> tuple[list[StreamEvent], ReplyAssembler]:
    """Consume a whole stream; return the events and the assembled reply."""
    events: list[StreamEvent] = []
    reply = ReplyAssembler()
    async for event in provider.stream(request):
        events.append(event)
        reply.feed(event)
    return events, reply


async def run_until_error(
    provider: Provider, request: ProviderRequest
) -> tuple[list[StreamEvent], ProviderError]:
    """Consume a stream that must fail; return the events before the failure and the error."""
    events: list[StreamEvent] = []
    try:
        async for event in provider.stream(request):
            events.append(event)  # noqa: PERF401 - the events before the error are the point
    except ProviderError as error:
        return events, error
    raise AssertionError(f"the stream ended without an error after {len(events)} events")
