"""Provider stream benchmarks: SSE parse + event mapping throughput, per-delta cost, latency.

Run with ``.venv/bin/python -m pytest benches/bench_providers.py --benchmark-enable -s``.
Targets (issue 4): at least 20 MB/s, under 20 us per delta, median added latency under 1 ms.

The transport benchmarks stream from the loopback server over each HTTP transport (arcan's
asyncio one and httpx's own) and report the client thread's CPU time (user + system, from
``time.thread_time``), which a shared machine disturbs far less than wall time: per delta for a
reply paced at 200 deltas/s (each delta its own wake-up, as from a real model) and per delta and
MB/s for one sent as fast as the socket takes it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from arcan_core.protocol.messages import Message, TextBlock
from arcan_core.providers.anthropic import AnthropicProvider, AnthropicStreamMapper
from arcan_core.providers.base import ProviderRequest, ProviderSettings, TextChunk
from arcan_core.providers.http import ErrorContext
from arcan_core.providers.openai_chat import ChatStreamMapper
from arcan_core.providers.openai_responses import ResponsesStreamMapper
from arcan_core.providers.sse import SSEDecoder
from arcan_core.providers.transport import AsyncioTransport
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


TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
    "asyncio": AsyncioTransport,
    "httpx": httpx.AsyncHTTPTransport,
}
TRANSPORT_REPLIES: dict[str, Reply] = {
    "paced": Reply(text="abcd" * 400, chunk_chars=4, frame_delay_s=1 / 200),
    "flood": Reply(text=_WORDS, chunk_chars=24),
}
_REQUEST = ProviderRequest(
    model="claude-sonnet-4-5",
    system="",
    messages=(Message(role="user", content=(TextBlock(text="go"),)),),
)
_ROUNDS = 5
# The server runs in its own process: in a thread of this one it would compete for the GIL and
# bill the client thread for the waits.
_SERVE = """
import sys
from benches.bench_providers import TRANSPORT_REPLIES
from tests.loopback import ThreadedLoopback
with ThreadedLoopback() as server:
    server.enqueue(*[TRANSPORT_REPLIES[sys.argv[1]]] * int(sys.argv[2]))
    print(server.anthropic_base_url, flush=True)
    sys.stdin.read()
"""


async def stream_cpu(base_url: str, transport: httpx.AsyncBaseTransport) -> tuple[float, int, int]:
    """Stream one reply; return the client thread's CPU seconds, the deltas and the bytes."""
    settings = ProviderSettings(name="anthropic", base_url=base_url, api_key="k")
    provider = AnthropicProvider(settings, transport=transport)
    deltas = size = 0
    started = time.thread_time()
    try:
        async for event in provider.stream(_REQUEST):
            if isinstance(event, TextChunk):
                deltas += 1
                size += len(event.text)
    finally:
        cpu = time.thread_time() - started
        await provider.aclose()
    return cpu, deltas, size


def _transport_rounds(benchmark: Any, transport: str, reply: str) -> list[tuple[float, int, int]]:
    """Stream ``reply`` over ``transport`` a warm-up round and ``_ROUNDS`` measured ones."""
    results: list[tuple[float, int, int]] = []
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, reply, str(_ROUNDS + 1)],
        cwd=Path(__file__).resolve().parents[1],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    try:
        url = server.stdout.readline().strip()

        def one() -> None:
            results.append(asyncio.run(stream_cpu(url, TRANSPORTS[transport]())))

        benchmark.pedantic(one, rounds=_ROUNDS, iterations=1, warmup_rounds=1)
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    return results[1:]


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_transport_cpu_per_paced_delta(benchmark: Any, transport: str) -> None:
    rounds = _transport_rounds(benchmark, transport, "paced")
    per_delta_us = statistics.median(cpu / deltas * 1e6 for cpu, deltas, _ in rounds)
    benchmark.extra_info.update({"cpu_us/delta": round(per_delta_us, 1)})
    print(f"\n{transport}: paced at 200/s, {per_delta_us:.1f} us CPU per delta (client thread)")
    assert all(deltas == 400 for _, deltas, _ in rounds)


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_transport_cpu_flat_out(benchmark: Any, transport: str) -> None:
    rounds = _transport_rounds(benchmark, transport, "flood")
    cpu = statistics.median(cpu for cpu, _, _ in rounds)
    deltas, size = rounds[0][1], rounds[0][2]
    benchmark.extra_info.update(
        {"cpu_us/delta": round(cpu / deltas * 1e6, 2), "MB/s_cpu": round(size / cpu / 1e6, 1)}
    )
    print(
        f"\n{transport}: flat out, {deltas} deltas: {cpu / deltas * 1e6:.2f} us CPU per delta, "
        f"{size / cpu / 1e6:.1f} MB of text per CPU second"
    )
    assert deltas > 10_000
