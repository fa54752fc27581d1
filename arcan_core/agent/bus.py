"""The event bus: stamps payloads into envelopes and fans them out to subscribers.

The core calls ``publish`` synchronously; it never awaits a subscriber. Each subscription holds a
bounded queue of display deltas and an unbounded queue position for records: when a subscriber
falls behind by more than ``limit`` events, the oldest display-only deltas in its queue are dropped
(a ``Warning`` is not needed: deltas are re-stated by the ``MessageAppended`` that ends them).
Records are never dropped, so a front-end that catches up still sees the whole conversation.

Sinks (``add_sink``) are called inline with each envelope. The session log writer is one: writing
to the page cache inline is what lets a ``kill -9`` lose nothing that was published.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from arcan_core.protocol.events import (
    Event,
    EventMsg,
    SessionSaved,
    TextDelta,
    ThinkingDelta,
    ToolCallArgumentsDelta,
    ToolCallOutput,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable

__all__ = ["DELTA_TYPES", "NOTICE_TYPES", "EventBus", "Subscription", "is_delta", "is_logged"]

DELTA_TYPES: Final = (TextDelta, ThinkingDelta, ToolCallArgumentsDelta, ToolCallOutput)
"""Display-only payloads: a slow subscriber may lose these, and the log does not keep them."""


NOTICE_TYPES: Final = (SessionSaved,)
"""Payloads about the session log itself: delivered like records, but not written to the log."""


def is_delta(msg: EventMsg) -> bool:
    """Return whether ``msg`` is a display-only fragment."""
    return isinstance(msg, DELTA_TYPES)


def is_logged(msg: EventMsg) -> bool:
    """Return whether the session log keeps ``msg`` (neither a delta nor a notice about the log)."""
    return not isinstance(msg, DELTA_TYPES) and not isinstance(msg, NOTICE_TYPES)


def _first_seq(seq: int) -> int:
    # Envelopes are built unvalidated (see ``EventBus.publish``): the numbering must start valid.
    if seq < 0:
        raise ValueError(f"event sequence numbers start at 0, not {seq}")
    return seq


class Subscription:
    """One subscriber's view of the bus: an async iterator of envelopes.

    The queue is bounded for deltas only. The iterator ends once the bus is closed and the queue
    has drained.
    """

    def __init__(self, bus: EventBus, limit: int, *, deltas: bool = True) -> None:
        self._bus = bus
        self._limit = limit
        self._deltas = deltas
        self._queue: deque[Event] = deque()
        self._wake = asyncio.Event()
        self._closed = False
        self.dropped = 0
        """How many deltas this subscriber lost by falling behind."""

    def _offer(self, event: Event) -> None:
        if not self._deltas and is_delta(event.msg):
            return
        if len(self._queue) >= self._limit:
            if is_delta(event.msg):
                self.dropped += 1
                return
            self._drop_one_delta()
        self._queue.append(event)
        self._wake.set()

    def _drop_one_delta(self) -> None:
        # Scan from the oldest: the oldest fragment is the least useful to a late reader.
        for index, queued in enumerate(self._queue):
            if is_delta(queued.msg):
                del self._queue[index]
                self.dropped += 1
                return

    def _close(self) -> None:
        self._closed = True
        self._wake.set()

    def close(self) -> None:
        """Stop receiving; the iterator ends after what is queued."""
        self._bus._unsubscribe(self)
        self._close()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        return self._queue.popleft()


class EventBus:
    """Stamps ``EventMsg`` payloads with session id, sequence number and time, then fans out."""

    def __init__(
        self,
        session_id: str,
        *,
        next_seq: int = 0,
        history: Iterable[Event] = (),
        queue_limit: int = 2048,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.session_id = session_id
        self._seq = _first_seq(next_seq)
        self._subscriptions: list[Subscription] = []
        self._sinks: list[Callable[[Event], None]] = []
        # Records only: deltas are re-stated by the records that end them, so replay skips them.
        self._history: list[Event] = [e for e in history if not is_delta(e.msg)]
        self._queue_limit = queue_limit
        self._clock = clock or (lambda: datetime.now(UTC))
        self._closed = False

    @property
    def next_seq(self) -> int:
        """The sequence number the next event will get."""
        return self._seq

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def rebind(self, session_id: str, *, next_seq: int, history: Iterable[Event]) -> None:
        """Go on as session ``session_id`` (a fork): later events carry its id and numbering."""
        self.session_id = session_id
        self._seq = _first_seq(next_seq)
        self._history = [e for e in history if not is_delta(e.msg)]

    def add_sink(self, sink: Callable[[Event], None]) -> None:
        """Call ``sink`` inline with every later envelope (used by the session log writer)."""
        self._sinks.append(sink)

    def publish(self, msg: EventMsg, *, parent_call_id: str | None = None) -> Event:
        """Stamp ``msg`` and deliver it to every sink and subscriber; never blocks.

        Raises:
            ValueError: the clock gave a time without a time zone (the log could not be read).
        """
        ts = self._clock()
        if ts.tzinfo is None:
            raise ValueError("the event clock must give timezone-aware times")
        # Not validated: every field is the bus's own and already of its type (``msg`` is a
        # validated payload, ``seq`` counts up from a start checked non-negative, ``ts`` is
        # checked above). Validating would build ``Event``'s validator, which holds one for
        # every payload type; the log writes ``Event.to_json`` for the same reason, and every
        # reader validates what it loads.
        event = Event.model_construct(
            session_id=self.session_id,
            seq=self._seq,
            ts=ts,
            parent_call_id=parent_call_id,
            msg=msg,
        )
        self._seq += 1
        self.deliver(event)
        return event

    def background_publisher(self) -> Callable[[EventMsg], None]:
        """Return the publish path for services running beside the core task (the live harness).

        They publish between and during tasks, on the same loop, so ordering and numbering
        stay those of ``publish``; what they publish after ``close`` is dropped (the log behind
        the sinks is closed by then).
        """

        def publish(msg: EventMsg) -> None:
            if not self._closed:
                self.publish(msg)

        return publish

    def deliver(self, event: Event) -> None:
        """Deliver an already stamped envelope (a sub-agent's, forwarded) without restamping."""
        if not is_delta(event.msg):
            self._history.append(event)
        for sink in self._sinks:
            sink(event)
        for subscription in self._subscriptions:
            subscription._offer(event)

    def subscribe(self, *, replay: bool = False, deltas: bool = True) -> Subscription:
        """Return a new subscription; with ``replay``, the past records are queued first.

        ``deltas=False`` leaves display fragments out (a consumer that only needs records, like
        ``arcan exec``, is then not woken for every token).
        """
        subscription = Subscription(self, self._queue_limit, deltas=deltas)
        if replay:
            subscription._queue.extend(self._history)
        if self._closed:
            subscription._close()
        else:
            self._subscriptions.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def close(self) -> None:
        """End every subscription once it has drained."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription._close()
        self._subscriptions.clear()
