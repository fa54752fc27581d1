"""MCP calls and ACP translation: what a tool call through a server and each streamed update cost.

Run: ``.venv/bin/python -m pytest benches/bench_mcp_acp.py --benchmark-enable``
"""

from __future__ import annotations

import asyncio
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from arcan_core.config.model import McpServerConfig
from arcan_core.mcp import McpManager, ServerSpec
from arcan_core.protocol.events import TextDelta, ToolCallFinished, ToolDisplay

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_benchmark.fixture import BenchmarkFixture

pytest.importorskip("mcp")
pytest.importorskip("acp")

ECHO = Path(__file__).parent.parent / "tests" / "fixtures" / "mcp_echo_server.py"


@pytest.fixture
def echo_manager(tmp_path: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, McpManager]]:
    loop = asyncio.new_event_loop()
    spec = ServerSpec(
        name="echo",
        config=McpServerConfig(command=sys.executable, args=(str(ECHO),)),
        source="config",
    )
    manager = McpManager([spec], workspace=tmp_path)
    loop.run_until_complete(manager.start_all())
    yield loop, manager
    loop.run_until_complete(manager.aclose())
    loop.close()


def test_mcp_stdio_call_round_trip(
    benchmark: BenchmarkFixture, echo_manager: tuple[asyncio.AbstractEventLoop, McpManager]
) -> None:
    loop, manager = echo_manager
    connection = manager.connection("echo")

    def call() -> str:
        return loop.run_until_complete(connection.call_tool("echo", {"text": "ping"})).text

    assert benchmark(call) == "ping"


def test_acp_text_delta_update(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    from arcan_core.acp.translate import EventTranslator  # noqa: PLC0415

    translator = EventTranslator(tmp_path, {})
    delta = TextDelta(text="a streamed fragment of the reply, ")
    assert len(benchmark(translator.updates, delta)) == 1


def test_acp_edit_diff_of_a_2000_line_file(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    from arcan_core.acp.translate import EventTranslator  # noqa: PLC0415

    before = "".join(f"line {n}\n" for n in range(2000))
    after = before.replace("line 1000\n", "line one thousand\n")
    (tmp_path / "big.txt").write_text(after, encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile="a/big.txt",
            tofile="b/big.txt",
        )
    )
    translator = EventTranslator(tmp_path, {"edit": "edit"})
    finished = ToolCallFinished(
        call_id="c1",
        name="edit",
        input={"path": "big.txt"},
        result="edited",
        display=ToolDisplay(kind="diff", diff=diff),
    )
    (update,) = benchmark(translator.updates, finished)
    assert update.content is not None
