"""Serializing and parsing events: the cost every event pays on its way to the log and back.

Run: ``.venv/bin/python -m pytest benches/bench_protocol.py --benchmark-enable``
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from arcan_core.protocol.events import Event, EventMsg, MessageAppended, TextDelta
from arcan_core.protocol.messages import Message, TextBlock, ToolUseBlock
from arcan_core.store.reader import parse_event_line

if TYPE_CHECKING:
    from pytest_benchmark.fixture import BenchmarkFixture

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

DELTA = TextDelta(text="a streamed fragment of the reply, ")
MESSAGE = MessageAppended(
    message=Message(
        role="assistant",
        content=(
            TextBlock(text="I will run the tests and then fix the failing assertion. " * 4),
            ToolUseBlock(
                id="toolu_01",
                name="bash",
                input={"command": "pytest -q tests/test_parser.py", "timeout": 120},
            ),
        ),
    )
)


def envelope(msg: EventMsg) -> Event:
    return Event(session_id="20261125T090000-abcdef", seq=1234, ts=T0, msg=msg)


def test_serialize_text_delta(benchmark: BenchmarkFixture) -> None:
    event = envelope(DELTA)
    assert benchmark(event.model_dump_json).startswith('{"v":1,')


def test_serialize_message(benchmark: BenchmarkFixture) -> None:
    event = envelope(MESSAGE)
    assert "toolu_01" in benchmark(event.model_dump_json)


def test_parse_text_delta(benchmark: BenchmarkFixture) -> None:
    line = envelope(DELTA).model_dump_json().encode()
    assert benchmark(parse_event_line, line).msg == DELTA


def test_parse_message(benchmark: BenchmarkFixture) -> None:
    line = envelope(MESSAGE).model_dump_json().encode()
    assert benchmark(parse_event_line, line).msg == MESSAGE
