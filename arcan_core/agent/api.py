"""The core daemon as front-ends see it: submit operations, subscribe to events.

Every front-end (TUI, ``arcan exec``, ``arcan shell``, the ACP adapter) talks to the core only
through a ``CoreHandle``. It shares no mutable state with the core: operations are immutable
pydantic values put on the core's queue, events are immutable envelopes read from a subscription.

A subscription is bounded: a subscriber that falls behind loses display-only deltas (text, thinking,
argument and output fragments), never record events, and never blocks the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from arcan_core.protocol.events import Event
    from arcan_core.protocol.operations import Operation

__all__ = ["CoreHandle"]


class CoreHandle(Protocol):
    """A running core task that owns one session."""

    @property
    def session_id(self) -> str:
        """The id of the session the core owns."""

    def submit(self, op: Operation) -> str:
        """Queue ``op`` for the core and return the submission id. Never blocks."""

    def subscribe(self, *, replay: bool = False) -> AsyncIterator[Event]:
        """Return a new subscription; with ``replay``, the session's past events come first.

        The iterator ends after the core has shut down and every event was delivered.
        """

    async def wait_closed(self) -> None:
        """Wait until the core task has finished (after ``Shutdown``), its log flushed."""
