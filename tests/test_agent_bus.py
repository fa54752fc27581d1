"""The event bus: stamping, fan-out, slow subscribers lose only deltas, sinks run inline."""

from __future__ import annotations

from arcan_core.agent.bus import EventBus
from arcan_core.protocol.events import Event, TextDelta, TurnStarted
from arcan_core.protocol.events import Warning as WarningEvent


async def test_envelopes_are_stamped_in_order() -> None:
    bus = EventBus("s1", next_seq=7)
    first = bus.publish(TurnStarted(turn_id="t1", prompt="p"))
    second = bus.publish(TextDelta(text="x"), parent_call_id="call_1")
    assert (first.session_id, first.seq, first.parent_call_id) == ("s1", 7, None)
    assert (second.seq, second.parent_call_id) == (8, "call_1")
    assert second.ts >= first.ts
    assert bus.next_seq == 9


async def test_a_slow_subscriber_loses_deltas_never_records() -> None:
    bus = EventBus("s", queue_limit=10)
    slow = bus.subscribe()
    for n in range(100):
        bus.publish(TextDelta(text=str(n)))
        if n % 10 == 0:
            bus.publish(WarningEvent(message=f"record {n}"))
    bus.close()
    got = [event async for event in slow]
    records = [e.msg.message for e in got if isinstance(e.msg, WarningEvent)]
    assert records == [f"record {n}" for n in range(0, 100, 10)]
    assert len(got) <= 10 + len(records)
    assert slow.dropped == 110 - len(got)
    # What survives is in order.
    assert [e.seq for e in got] == sorted(e.seq for e in got)


async def test_subscribers_are_independent_and_can_skip_deltas() -> None:
    bus = EventBus("s")
    everything = bus.subscribe()
    records_only = bus.subscribe(deltas=False)
    bus.publish(TextDelta(text="a"))
    bus.publish(WarningEvent(message="w"))
    bus.close()
    assert [e.msg.type async for e in everything] == ["text_delta", "warning"]
    assert [e.msg.type async for e in records_only] == ["warning"]


async def test_sinks_run_inline_and_replay_gives_past_records() -> None:
    bus = EventBus("s")
    logged: list[Event] = []
    bus.add_sink(logged.append)
    bus.publish(TurnStarted(turn_id="t1", prompt="p"))
    assert len(logged) == 1  # before publish returned
    bus.publish(TextDelta(text="a"))
    late = bus.subscribe(replay=True)
    bus.close()
    assert [e.msg.type async for e in late] == ["turn_started"]
    # A subscription taken after the close ends at once.
    assert [e async for e in bus.subscribe()] == []
