"""The SSE parser: line endings, comments, fields, EOF; and chunking never changes the events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

from arcan_core.providers.anthropic import AnthropicStreamMapper
from arcan_core.providers.http import ErrorContext, StreamMapper
from arcan_core.providers.openai_chat import ChatStreamMapper
from arcan_core.providers.openai_responses import ResponsesStreamMapper
from arcan_core.providers.sse import SSEDecoder, SSEEvent
from tests.loopback import Reply, ToolCall, render

if TYPE_CHECKING:
    from collections.abc import Callable

    from arcan_core.providers.base import StreamEvent
    from tests.loopback import Wire


def parse(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def test_lf_crlf_and_cr_line_endings_are_equivalent() -> None:
    expected = [SSEEvent("delta", "a"), SSEEvent("message", "b")]
    assert parse(b"event: delta\ndata: a\n\ndata: b\n\n") == expected
    assert parse(b"event: delta\r\ndata: a\r\n\r\ndata: b\r\n\r\n") == expected
    assert parse(b"event: delta\rdata: a\r\rdata: b\r\r") == expected


def test_crlf_split_across_chunks_counts_once() -> None:
    assert parse(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n") == [
        SSEEvent("message", "a"),
        SSEEvent("message", "b"),
    ]


def test_comments_are_ignored_and_blank_events_are_not_dispatched() -> None:
    assert parse(b": keep-alive\n\n:another\nevent: x\n\ndata: y\n\n") == [SSEEvent("message", "y")]


def test_multi_line_data_joins_with_newlines() -> None:
    assert parse(b"data: one\ndata:two\ndata:  three\n\n") == [
        SSEEvent("message", "one\ntwo\n three")
    ]


def test_id_persists_and_retry_is_read() -> None:
    events = parse(
        b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid\ndata: c\n\nretry: x\ndata: d\n\n"
    )
    assert [(e.data, e.id, e.retry) for e in events] == [
        ("a", "7", 1500),
        ("b", "7", 1500),
        ("c", "", 1500),
        ("d", "", 1500),
    ]


def test_field_without_colon_and_empty_data() -> None:
    assert parse(b"data\n\n") == [SSEEvent("message", "")]
    assert parse(b"data:\ndata:\n\n") == [SSEEvent("message", "\n")]


def test_final_event_without_blank_line_is_kept_at_eof() -> None:
    assert parse(b"data: first\n\ndata: last") == [
        SSEEvent("message", "first"),
        SSEEvent("message", "last"),
    ]
    assert parse(b"data: last\n") == [SSEEvent("message", "last")]
    assert parse(b"event: x\n") == []


def test_utf8_split_inside_a_character_and_bom() -> None:
    payload = "data: héllo ✓\n\n".encode()
    cut = payload.index("✓".encode()) + 1
    assert parse(b"\xef\xbb\xbf" + payload[:cut], payload[cut:]) == [SSEEvent("message", "héllo ✓")]


EDGE_STREAM = (
    b": comment\r\nevent: a\r\ndata: 1\r\ndata: 2\r\n\r\nid: 9\rdata: x\r\r"
    b"retry: 10\ndata: \xe2\x9c\x93\n\nevent: tail\ndata: end"
)

RICH_REPLY = Reply(
    text="Hello, wörld! Here is some text ✓ that spans chunks.",
    thinking="Considering the problem carefully.",
    redacted="ENCRYPTED==",
    tool_calls=(
        ToolCall("read", {"path": "src/app.py"}),
        ToolCall("edit", {"path": "a.py", "old": "x = 1", "new": "x = 2\n"}),
    ),
    cache_read_tokens=3,
    chunk_chars=5,
)

RECORDED: dict[str, bytes] = {
    "edge": EDGE_STREAM,
    "anthropic": render(RICH_REPLY, "anthropic"),
    "chat": render(RICH_REPLY, "chat"),
    "responses": render(RICH_REPLY, "responses"),
}


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


@given(
    name=st.sampled_from(sorted(RECORDED)),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
)
def test_any_chunking_yields_identical_events(name: str, cuts: list[int]) -> None:
    data = RECORDED[name]
    assert parse(*split(data, cuts)) == parse(data)


@given(
    name=st.sampled_from(sorted(RECORDED)),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
)
def test_byte_by_byte_or_any_chunking_yields_identical_events_at_odd_points(
    name: str, cuts: list[int]
) -> None:
    data = RECORDED[name]
    one_by_one = [data[i : i + 1] for i in range(len(data))]
    assert parse(*one_by_one) == parse(*split(data, cuts))


def map_stream(wire: Wire, pieces: list[bytes]) -> list[StreamEvent]:
    ctx = ErrorContext("test")
    mappers: dict[str, Callable[[ErrorContext], StreamMapper]] = {
        "anthropic": AnthropicStreamMapper,
        "chat": ChatStreamMapper,
        "responses": ResponsesStreamMapper,
    }
    mapper = mappers[wire](ctx)
    return [event for sse in parse(*pieces) for event in mapper.feed(sse)]


@given(
    wire=st.sampled_from(["anthropic", "chat", "responses"]),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
)
def test_any_chunking_yields_identical_stream_events(wire: Wire, cuts: list[int]) -> None:
    data = RECORDED[wire]
    assert map_stream(wire, split(data, cuts)) == map_stream(wire, [data])


def test_edge_stream_parses_as_specified() -> None:
    assert parse(EDGE_STREAM) == [
        SSEEvent("a", "1\n2"),
        SSEEvent("message", "x", id="9"),
        SSEEvent("message", "✓", id="9", retry=10),
        SSEEvent("tail", "end", id="9", retry=10),
    ]
