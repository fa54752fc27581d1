"""Provider stream benchmarks: SSE parse + event mapping throughput, per-delta cost, latency.

Run with ``.venv/bin/python -m pytest benches/bench_providers.py --benchmark-enable -s``.
Targets (issue 4): at least 20 MB/s, under 20 us per delta, median added latency under 1 ms.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import TYPE_CHECKING, Any

import pytest

from arcan_core.protocol.messages import Message, TextBlock
from arcan_core.providers.anthropic import AnthropicProvider, AnthropicStreamMapper
from arcan_core.providers.base import ProviderRequest, ProviderSettings, TextChunk
from arcan_core.providers.http import ErrorContext
from arcan_core.providers.openai_chat import ChatStreamMapper
from arcan_core.providers.openai_responses import ResponsesStreamMapper
from arcan_core.providers.sse import SSEDecoder
from tests.loopback import Reply, ToolCall, render

if TYPE_CHECKING:
    from collections.abc import Callable

    from arcan_core.providers.http import StreamMapper
    from tests.loopback import Wire

CTX = ErrorContext("bench")
MAPPERS: dict[Wire, Callable[[ErrorContext], StreamMapper]] = {
    "anthropic": AnthropicStreamMapper,
    "chat": ChatStreamMapper,
    "responses": ResponsesStreamMapper,
}

# A long reply streamed in deltas of 24 characters (typical of real token streams), with thinking
# and a tool call so every mapping path runs.
_WORDS = "the quick brown fox jumps over the lazy dog while arcan streams tokens " * 4000
REPLY = Reply(
    thinking=_WORDS[:20_000],
    text=_WORDS,
    tool_calls=(ToolCall("edit", {"path": "a.py", "old": "x" * 2000, "new": "y" * 2000}),),
    chunk_chars=24,
)
STREAMS: dict[Wire, bytes] = {wire: render(REPLY, wire) for wire in MAPPERS}
READ_SIZE = 16_384


def parse_and_map(wire: Wire, data: bytes) -> int:
    """Feed ``data`` in socket-sized reads through the decoder and mapper; count the events."""
    decoder = SSEDecoder()
    mapper = MAPPERS[wire](CTX)
    count = 0
    for start in range(0, len(data), READ_SIZE):
        for sse in decoder.feed(data[start : start + READ_SIZE]):
            count += len(mapper.feed(sse))
    for sse in decoder.close():
        count += len(mapper.feed(sse))
    return count


@pytest.mark.parametrize("wire", sorted(MAPPERS))
def test_parse_and_map_throughput(benchmark: Any, wire: Wire) -> None:
    data = STREAMS[wire]
    events = benchmark(parse_and_map, wire, data)
    seconds = benchmark.stats.stats.median  # the machine is shared: the median is steadier
    megabytes_per_s = len(data) / seconds / 1e6
    per_event_us = seconds / events * 1e6
    benchmark.extra_info.update(
        {"MB/s": round(megabytes_per_s, 1), "us/delta": round(per_event_us, 2), "events": events}
    )
    print(
        f"\n{wire}: {len(data) / 1e6:.2f} MB, {events} events: "
        f"{megabytes_per_s:.1f} MB/s, {per_event_us:.2f} us per delta"
    )
    assert events > 10_000


def _frame(sent_ns: int) -> bytes:
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": f"{sent_ns} "},
    }
    return f"event: content_block_delta\ndata: {json.dumps(delta)}\n\n".encode()


_HEAD = (
    b'event: message_start\ndata: {"type":"message_start","message":{"usage":'
    b'{"input_tokens":1,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
)
_TAIL = (
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":2}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


async def _timestamping_server(frames: int, gap_s: float) -> tuple[asyncio.Server, int]:
    """An HTTP server whose every text delta carries the ``perf_counter_ns`` it was written at."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )

        def chunk(payload: bytes) -> None:
            writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))

        chunk(_HEAD)
        await writer.drain()
        for _ in range(frames):
            await asyncio.sleep(gap_s)
            chunk(_frame(time.perf_counter_ns()))
            await writer.drain()
        chunk(_TAIL)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def measure_latency(frames: int = 400, gap_s: float = 0.002) -> list[float]:
    """Milliseconds from the server writing each delta to its ``TextChunk`` reaching us."""
    server, port = await _timestamping_server(frames, gap_s)
    settings = ProviderSettings(name="anthropic", base_url=f"http://127.0.0.1:{port}", api_key="k")
    provider = AnthropicProvider(settings)
    request = ProviderRequest(
        model="claude-sonnet-4-5",
        system="",
        messages=(Message(role="user", content=(TextBlock(text="go"),)),),
    )
    latencies: list[float] = []
    try:
        async for event in provider.stream(request):
            if isinstance(event, TextChunk):
                received = time.perf_counter_ns()
                latencies.append((received - int(event.text)) / 1e6)
    finally:
        await provider.aclose()
        server.close()
        await server.wait_closed()
    return latencies


def test_added_latency_over_loopback(benchmark: Any) -> None:
    latencies: list[float] = benchmark.pedantic(
        lambda: asyncio.run(measure_latency()), rounds=1, iterations=1
    )
    ordered = sorted(latencies)
    median = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95)]
    benchmark.extra_info.update({"median_ms": round(median, 3), "p95_ms": round(p95, 3)})
    print(
        f"\nloopback latency over {len(ordered)} deltas: median {median:.3f} ms, p95 {p95:.3f} ms"
    )
    assert len(ordered) == 400
