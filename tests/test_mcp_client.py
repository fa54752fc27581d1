"""The MCP client against real servers in subprocesses.

``tests/fixtures/mcp_echo_server.py`` is written with the SDK's server side (stdio and streamable
HTTP); ``mcp-server-time`` is the published reference server, installed from the registry.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from arcan_core.config.model import McpServerConfig
from arcan_core.errors import ToolError, ToolInputError
from arcan_core.mcp import (
    McpArguments,
    McpConnection,
    McpManager,
    McpTool,
    ServerSpec,
    ServerState,
    describe_servers,
)
from arcan_core.tools.base import ToolContext
from arcan_core.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytest.importorskip("mcp")

ECHO = Path(__file__).parent / "fixtures" / "mcp_echo_server.py"


def _spec(name: str, **config: Any) -> ServerSpec:
    config.setdefault("command", sys.executable)
    config.setdefault("args", (str(ECHO),))
    return ServerSpec(name=name, config=McpServerConfig(**config), source="config")


def _state(connection: McpConnection) -> ServerState:
    # A call, so mypy does not narrow the property across awaits that change it.
    return connection.state


def _context(workspace: Path) -> ToolContext:
    return ToolContext(workspace=workspace, call_id="call_1", emit=lambda _msg: None)


@pytest.fixture
async def notes() -> list[str]:
    return []


def _manager(tmp_path: Path, notes: list[str], *specs: ServerSpec, **kw: Any) -> McpManager:
    return McpManager(specs, workspace=tmp_path, notify=notes.append, **kw)


async def test_stdio_server_tools_env_and_quiet_stderr(
    tmp_path: Path, notes: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    manager = _manager(tmp_path, notes, _spec("echo", env={"ARCAN_TEST_VALUE": "from-config"}))
    try:
        connection = manager.connection("echo")
        assert _state(connection) == "idle"  # nothing starts before it is needed
        tools = {tool.name: tool for tool in await manager.tools()}
        assert _state(connection) == "ready"
        echo = tools["mcp__echo__echo"]
        assert isinstance(echo, McpTool)
        schema = echo.input_schema()
        assert schema["properties"]["text"]["type"] == "string"
        assert schema["required"] == ["text"]
        assert echo.description.startswith("[MCP echo] Return the text")

        ctx = _context(tmp_path)
        result = await echo.run(McpArguments.model_validate({"text": "ab", "times": 3}), ctx)
        assert (result.content, result.is_error) == ("ababab", False)

        env_tool = tools["mcp__echo__env_get"]
        seen = await env_tool.run(
            McpArguments.model_validate({"name": "ARCAN_TEST_VALUE"}),
            ctx,
        )
        assert seen.content == "from-config"

        noisy = await connection.call_tool("noisy", {"text": "hello"})
        assert noisy.text == "hello"
        failed = await connection.call_tool("fail", {"message": "boom"})
        assert failed.is_error
    finally:
        await manager.aclose()
    assert _state(connection) == "idle"
    log = connection.log_path
    assert log is not None
    assert "noisy stderr line: hello" in log.read_text(encoding="utf-8")
    assert "noisy stderr line" not in capfd.readouterr().err
    assert notes == []


async def test_a_crash_is_reported_then_restarted_then_disabled(
    tmp_path: Path, notes: list[str]
) -> None:
    manager = _manager(tmp_path, notes, _spec("echo"), max_restarts=1)
    connection = manager.connection("echo")
    try:
        with pytest.raises(ToolError) as caught:
            await connection.call_tool("crash", {})
        message = caught.value.message
        assert "exited during the call" in message
        assert "restarted on its next use" in message
        assert _state(connection) == "crashed"
        assert "crashing on purpose" in (connection.error or "")
        assert len(notes) == 1

        # The next use starts a fresh process.
        assert (await connection.call_tool("echo", {"text": "back"})).text == "back"
        assert _state(connection) == "ready"
        assert connection.restarts == 1

        with pytest.raises(ToolError) as caught:
            await connection.call_tool("crash", {})
        assert "disabled for the rest of the session" in caught.value.message
        assert _state(connection) == "disabled"
        with pytest.raises(ToolError, match="is disabled: disabled after 2 failures"):
            await connection.call_tool("echo", {"text": "no"})
        assert await manager.tools() == []
    finally:
        await manager.aclose()


async def test_a_hanging_call_times_out_and_the_server_is_restarted(
    tmp_path: Path, notes: list[str]
) -> None:
    manager = _manager(tmp_path, notes, _spec("slow", tool_timeout_s=2.0))
    connection = manager.connection("slow")
    try:
        with pytest.raises(ToolError, match=r"did not answer within 2 s"):
            await connection.call_tool("hang", {})
        assert _state(connection) == "crashed"
        assert (await connection.call_tool("echo", {"text": "ok"})).text == "ok"
    finally:
        await manager.aclose()
    assert notes == ["MCP server 'slow': did not answer within 2 s"]


async def test_servers_that_cannot_start_are_reported_and_left_out(
    tmp_path: Path, notes: list[str]
) -> None:
    silent = "import sys; sys.stdin.read()"  # reads requests and never answers
    manager = _manager(
        tmp_path,
        notes,
        _spec("echo"),
        _spec("missing", command=str(tmp_path / "no-such-server")),
        _spec("mute", args=("-c", silent), startup_timeout_s=1.0),
        _spec("off", enabled=False),
    )
    try:
        names = sorted(tool.name for tool in await manager.tools())
        assert names
        assert all(name.startswith("mcp__echo__") for name in names)
        status = {server.name: server for server in manager.status()}
        assert status["echo"].state == "ready"
        assert status["missing"].state == "failed"
        assert "command not found" in (status["missing"].error or "")
        assert status["mute"].state == "failed"
        assert status["mute"].error == "did not start within 1 s"
        assert status["off"].state == "disabled"
        assert status["off"].error == "disabled in the configuration"
        assert len(notes) == 2
        with pytest.raises(ToolError, match="'missing' failed to start"):
            await manager.connection("missing").call_tool("anything", {})
    finally:
        await manager.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def http_server() -> AsyncIterator[str]:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ECHO),
        "--http",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(30):
            # Uvicorn says when it listens; wait for that line rather than polling the port.
            while b"running on" not in (line := await process.stderr.readline()).lower():
                assert line, "the HTTP server exited before listening"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        await process.wait()


async def test_streamable_http_server(tmp_path: Path, notes: list[str], http_server: str) -> None:
    spec = ServerSpec(
        name="web",
        config=McpServerConfig(url=http_server, headers={"X-Test": "1"}),
        source=".mcp.json",
    )
    manager = _manager(tmp_path, notes, spec)
    try:
        tools = {tool.name: tool for tool in await manager.tools()}
        assert "mcp__web__echo" in tools
        outcome = await manager.connection("web").call_tool("echo", {"text": "net"})
        assert outcome.text == "net"
        (status,) = manager.status()
        assert (status.transport, status.target, status.log_path) == ("http", http_server, None)
    finally:
        await manager.aclose()


async def test_reference_time_server_from_the_registry(tmp_path: Path, notes: list[str]) -> None:
    pytest.importorskip("mcp_server_time")
    spec = ServerSpec(
        name="time",
        config=McpServerConfig(
            command=sys.executable, args=("-m", "mcp_server_time", "--local-timezone", "UTC")
        ),
        source=".mcp.json",
    )
    async with _manager(tmp_path, notes, spec) as manager:
        registry = ToolRegistry()
        for tool in await manager.tools():
            registry.register(tool)
        convert = registry.get("mcp__time__convert_time")
        assert isinstance(convert, McpTool)
        assert convert.read_only  # the server marks its tools read-only
        spec_seen = {s.name: s for s in registry.specs("plan")}["mcp__time__convert_time"]
        required = {"source_timezone", "time", "target_timezone"}
        assert set(spec_seen.input_schema["required"]) == required

        # Validated by the registry against the server's own schema, as for a built-in.
        validator = registry.validator("mcp__time__convert_time")
        with pytest.raises(ToolInputError, match="'time' is a required property"):
            validator.parse('{"source_timezone": "UTC", "target_timezone": "Asia/Tokyo"}')
        args = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
        _, parsed = validator.parse(json.dumps(args))
        result = await convert.run(McpArguments.model_validate(parsed), _context(tmp_path))
        assert not result.is_error
        data = json.loads(result.content)
        assert data["target"]["datetime"].endswith("T21:00:00+09:00")
        assert data["time_difference"] == "+9.0h"
        bad = await manager.connection("time").call_tool(
            "convert_time", {**args, "target_timezone": "Mars/Olympus"}
        )
        assert bad.is_error
    assert _state(manager.connection("time")) == "idle"  # stopped on leaving the block


async def test_describe_servers_of_a_project(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "echo": {"command": sys.executable, "args": [str(ECHO)]},
                    "later": {"command": "${ARCAN_TEST_UNSET_VARIABLE}"},
                }
            }
        ),
        encoding="utf-8",
    )
    echo, later = await describe_servers(workspace=tmp_path)
    assert echo.state == "ready"  # described while it ran; stopped afterwards
    assert echo.source == ".mcp.json"
    assert {tool.qualified_name for tool in echo.tools} >= {"mcp__echo__echo", "mcp__echo__hang"}
    assert later.state == "disabled"
    assert later.error == "environment variable ARCAN_TEST_UNSET_VARIABLE is not set"


async def test_a_server_seen_before_starts_only_when_first_called(
    tmp_path: Path, notes: list[str]
) -> None:
    first = _manager(tmp_path, notes, _spec("echo"))
    try:
        assert "mcp__echo__echo" in {tool.name for tool in await first.tools()}
    finally:
        await first.aclose()

    again = _manager(tmp_path, notes, _spec("echo"), _spec("other", env={"CHANGED": "1"}))
    try:
        tools = {tool.name: tool for tool in await again.tools()}
        echo = again.connection("echo")
        assert _state(echo) == "idle"  # offered from the remembered listing, not started
        assert _state(again.connection("other")) == "ready"  # never seen: started to list
        assert tools["mcp__echo__echo"].input_schema()["required"] == ["text"]
        result = await tools["mcp__echo__echo"].run(
            McpArguments.model_validate({"text": "lazy"}), _context(tmp_path)
        )
        assert result.content == "lazy"
        assert _state(echo) == "ready"
    finally:
        await again.aclose()
