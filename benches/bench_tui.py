"""TUI benchmarks for ``pytest benches/ --benchmark-enable``; whole-process figures are in
``benches/tui_whole_process.py``.

- routing 2,000 streamed deltas into transcript data (no widgets): the router's own cost per token;
- the headless streaming run of ``tui_whole_process.in_process`` (2,000 tokens at 200 tokens/s into
  the real app), reporting the last-chunk-to-final-frame lag, the event-loop lag p95 and the CPU
  the process spent on the stream.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from arcan_core.protocol.events import Event, TextDelta, TurnStarted
from arcan_tui.bridge import EventRouter
from benches.tui_whole_process import in_process

if TYPE_CHECKING:
    from arcan_tui.transcript_data import Item


class _DataOnlyView:
    """A ``ChatView`` that keeps items and ignores the rest (no Textual involved)."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.touched = 0

    def add_item(self, item: Item) -> None:
        self.items.append(item)

    def touch_item(self, item: Item) -> None:
        del item
        self.touched += 1

    def set_status(self, **changes: object) -> None:
        del changes

    def request_approval(self, event: Any) -> None:
        del event

    def drop_approval(self, call_id: str) -> None:
        del call_id

    def record_sensor(self, reading: Any) -> None:
        del reading

    def record_decision(self, decision: Any) -> None:
        del decision


def test_route_2000_deltas(benchmark: Any) -> None:
    now = datetime.now(UTC)
    events = [Event(session_id="s", seq=0, ts=now, msg=TurnStarted(turn_id="t", prompt="p"))]
    events += [
        Event(session_id="s", seq=i + 1, ts=now, msg=TextDelta(text="word")) for i in range(2000)
    ]

    def route() -> int:
        view = _DataOnlyView()
        router = EventRouter(view, live_since=now)
        for event in events:
            router.dispatch(event)
        return view.touched

    assert benchmark(route) == 2000


def test_stream_2000_tokens_headless(benchmark: Any) -> None:
    result = benchmark.pedantic(lambda: asyncio.run(in_process()), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(
        f"\nlast chunk to final frame {result['last_chunk_to_final_frame_ms']:.0f} ms, "
        f"loop lag p95 {result['loop_lag_p95_ms']:.1f} ms, "
        f"stream CPU {result['stream_cpu_s']:.2f} s"
    )
    assert result["produce_s"] < 20
