"""One MCP server: start it, list its tools, call them, and survive its crashes and hangs.

The SDK's ``mcp.Client`` is an async context manager built on anyio task groups, so it must be
entered and left by the same task. Each connection therefore runs a *holder* task that enters the
client, publishes it, and waits for a stop signal; tool calls are made from any task through the
published client (the SDK multiplexes requests over one session).

Failure policy: a start that fails or times out, a call that finds the connection closed (the
server exited) and a call that outlives ``tool_timeout_s`` (the server hangs) each count as one
failure. The server is torn down and started again on its next use; after ``max_restarts``
restarts it is disabled with a message that says why and where its stderr went. Nothing here
waits without a deadline, so a broken server can cost a call, never the agent.

Stdio servers write their stderr to a log file (``<workspace>/.arcan/mcp/NAME.log``), never to
the terminal the TUI draws on; the tail of that file goes into crash messages.

The ``mcp`` package is imported only inside the methods that start a server: importing arcan's
core does not pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arcan_core import __version__
from arcan_core.errors import ProtocolError, ToolError

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

    from mcp import Client
    from mcp.types import CallToolResult

    from arcan_core.mcp.config import ServerSpec

__all__ = ["CallOutcome", "McpConnection", "McpToolInfo", "ServerState"]

ServerState = Literal["idle", "starting", "ready", "crashed", "failed", "disabled"]
"""``idle``: configured, not started yet (servers start when first needed). ``crashed`` and
``failed``: the last run or start went wrong; the next use starts it again. ``disabled``: by
config, by an unusable declaration, or after too many failures."""

_LOG_LIMIT_BYTES = 1_000_000
"""A log larger than this is emptied at the next start."""
_STOP_TIMEOUT_S = 10.0
"""Upper bound on the SDK's own (bounded, about 5 s) shutdown of a stdio server."""
_MAX_TOOL_PAGES = 100
"""A server whose tool listing never ends is cut off here."""

# The SDK logs through ``logging``; with no handler configured Python's last-resort handler would
# print those records on stderr, over the TUI. A null handler keeps them off the terminal while
# still letting them propagate to whatever handler the application installs (the debug log).
logging.getLogger("mcp").addHandler(logging.NullHandler())


class McpToolInfo(BaseModel):
    """A tool as the server lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    read_only: bool = False
    """The server's ``readOnlyHint``."""


class CallOutcome(BaseModel):
    """What a tool call gave back, flattened to text for the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    is_error: bool = False


class McpConnection:
    """The life of one configured MCP server.

    Args:
        spec: the server's declaration.
        workspace: the project root; stdio servers run there.
        log_dir: where stdio servers' stderr goes, one file per server.
        max_restarts: how many failures are followed by a restart before the server is disabled.
        notify: called with a one-line message when the server fails, restarts or is disabled.
        on_listed: called with the tool listing after each successful start (the tool cache).
    """

    def __init__(
        self,
        spec: ServerSpec,
        *,
        workspace: Path,
        log_dir: Path,
        max_restarts: int = 2,
        notify: Callable[[str], None] | None = None,
        on_listed: Callable[[ServerSpec, tuple[McpToolInfo, ...]], None] | None = None,
    ) -> None:
        self.spec = spec
        self._on_listed = on_listed
        self._workspace = workspace
        self._log_path = log_dir / f"{_safe_file_name(spec.name)}.log"
        self._log_offset = 0
        self._max_restarts = max_restarts
        self._notify = notify or (lambda _message: None)
        self._state: ServerState = "idle"
        self._error: str | None = None
        if spec.problem:
            self._state, self._error = "disabled", spec.problem
        elif not spec.config.enabled:
            self._state, self._error = "disabled", "disabled in the configuration"
        self._tools: tuple[McpToolInfo, ...] = ()
        self._failures = 0
        self._generation = 0
        self._client: Client | None = None
        self._holder: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._reapers: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        """The server's configured name."""
        return self.spec.name

    @property
    def state(self) -> ServerState:
        """Where the server is in its life."""
        return self._state

    @property
    def error(self) -> str | None:
        """Why the server is not ready, when it is not."""
        return self._error

    @property
    def tools(self) -> tuple[McpToolInfo, ...]:
        """The tools of the last successful start (empty before the first)."""
        return self._tools

    @property
    def restarts(self) -> int:
        """How many times the server failed (each failure leads to a restart or to disabling)."""
        return self._failures

    @property
    def log_path(self) -> Path | None:
        """The file the server's stderr goes to (stdio servers only)."""
        return None if self.spec.config.url else self._log_path

    def offer(self, tools: tuple[McpToolInfo, ...]) -> None:
        """Offer a remembered listing while the server is not started (see ``cache``)."""
        if self._state == "idle":
            self._tools = tools

    def report(self, message: str) -> None:
        """Pass a one-line message about this server to the session's ``notify``."""
        self._notify(f"MCP server {self.name!r}: {message}")

    async def ensure_started(self) -> tuple[McpToolInfo, ...]:
        """Start the server if it is not running, and return its tools.

        Raises:
            ProtocolError: the server is disabled, or failed to start within its timeout.
        """
        async with self._lock:
            if self._state == "ready":
                return self._tools
            if self._state == "disabled":
                raise ProtocolError(
                    f"MCP server {self.name!r} is disabled: {self._error}",
                    hint="fix the server's entry, then restart arcan",
                )
            await self._start()
            return self._tools

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> CallOutcome:
        """Call ``tool`` with ``arguments``; a server error result comes back with ``is_error``.

        Raises:
            ToolError: the server is disabled, cannot start, exited or hung during the call.
        """
        try:
            await self.ensure_started()
        except ProtocolError as error:
            raise ToolError(error.message, hint=error.hint) from error
        # The SDK is importable: the server started.
        from mcp import MCPError  # noqa: PLC0415 - the SDK loads only when a server is used
        from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT  # noqa: PLC0415

        client, generation = self._client, self._generation
        if client is None:  # pragma: no cover - ensure_started publishes the client
            raise ToolError(f"MCP server {self.name!r} is not connected")
        timeout = self.spec.config.tool_timeout_s
        try:
            # The SDK's read timeout answers first; the outer deadline guards against a transport
            # that stops responding to cancellation.
            async with asyncio.timeout(timeout + _STOP_TIMEOUT_S):
                result = await client.call_tool(tool, arguments, read_timeout_seconds=timeout)
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:
                reason = "exited during the call"
            elif error.code == REQUEST_TIMEOUT:
                reason = f"did not answer within {timeout:g} s"
            else:
                raise ToolError(
                    f"MCP server {self.name!r} refused {tool!r}: {error.error.message}"
                ) from error
            raise self._call_failed(generation, reason) from error
        except TimeoutError as error:
            raise self._call_failed(generation, f"did not answer within {timeout:g} s") from error
        except ValidationError as error:
            raise ToolError(
                f"MCP server {self.name!r} answered {tool!r} with a malformed result",
                hint=self._log_hint(),
            ) from error
        # Boundary: a transport that broke in a way the SDK does not map to MCPError (a closed
        # stream, an OS error) is a failed run like a crash: restart rather than end the turn.
        except Exception as error:  # re-raised as a ToolError, so not a blind except
            reason = f"broke during the call: {_describe(error)}"
            raise self._call_failed(generation, reason) from error
        return _flatten(result)

    async def stop(self) -> None:
        """Stop the server (if running) and wait for its process to be gone."""
        async with self._lock:
            holder, stop = self._holder, self._stop
            self._holder = self._stop = self._client = None
            if holder is not None and stop is not None:
                await _reap(holder, stop)
            if self._state in ("ready", "starting"):
                self._state = "idle"
        if self._reapers:
            await asyncio.gather(*self._reapers, return_exceptions=True)

    # -- starting ----------------------------------------------------------------------------

    async def _start(self) -> None:
        """Start a fresh holder and wait for the tool listing; the caller holds the lock."""
        self._state = "starting"
        self._generation += 1
        ready: asyncio.Future[tuple[Client, tuple[McpToolInfo, ...]]]
        ready = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        holder = asyncio.create_task(
            self._hold(ready, stop, self._generation), name=f"mcp:{self.name}"
        )
        timeout = self.spec.config.startup_timeout_s
        try:
            async with asyncio.timeout(timeout):
                client, tools = await asyncio.shield(ready)
        except TimeoutError:
            await _reap(holder, stop, cancel=True)
            reason = f"did not start within {timeout:g} s"
        except asyncio.CancelledError:
            await _reap(holder, stop, cancel=True)
            self._state = "idle"
            raise
        # Boundary: the SDK and the OS raise many types here (OSError for a missing command,
        # MCPError for a refused handshake, exception groups from its task groups).
        except Exception as error:  # noqa: BLE001
            await _reap(holder, stop, cancel=True)
            reason = f"failed to start: {_describe(error)}"
        else:
            self._client, self._tools, self._holder, self._stop = client, tools, holder, stop
            self._state, self._error = "ready", None
            if self._on_listed is not None:
                self._on_listed(self.spec, tools)
            return
        self._record_failure(reason, state="failed")
        raise ProtocolError(f"MCP server {self.name!r} {self._error}", hint=self._log_hint())

    async def _hold(
        self,
        ready: asyncio.Future[tuple[Client, tuple[McpToolInfo, ...]]],
        stop: asyncio.Event,
        generation: int,
    ) -> None:
        """Own the client context for one run of the server."""
        try:
            async with self._open_client() as client:
                tools = await _list_tools(client)
                if not ready.done():
                    ready.set_result((client, tools))
                await stop.wait()
        except asyncio.CancelledError:
            if not ready.done():
                ready.cancel()
            raise
        # Boundary: whatever ends the run is handed to the starter, or ends a run that crashed.
        except Exception as error:  # noqa: BLE001
            if not ready.done():
                ready.set_exception(error)
            elif generation == self._generation and self._state == "ready":
                # The run ended on its own while idle: the next call starts a fresh one.
                self._client = self._holder = self._stop = None
                self._record_failure(f"stopped: {_describe(error)}", state="crashed")

    def _open_client(self) -> AbstractAsyncContextManager[Client]:
        """Build the SDK client for this server's transport."""
        from mcp import Client  # noqa: PLC0415 - the SDK loads only when a server is used
        from mcp.types import Implementation  # noqa: PLC0415

        info = Implementation(name="arcan", version=__version__)
        config = self.spec.config
        if config.url:
            return _http_client(config.url, config.headers, info)
        from mcp import StdioServerParameters  # noqa: PLC0415
        from mcp.client.stdio import stdio_client  # noqa: PLC0415

        params = StdioServerParameters(
            command=config.command or "",
            args=list(config.args),
            env=dict(config.env),
            cwd=self._workspace,
        )
        errlog = self._open_log()
        client = Client(stdio_client(params, errlog=errlog), client_info=info)
        return _closing_log(client, errlog)

    def _open_log(self) -> Any:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if self._log_path.stat().st_size > _LOG_LIMIT_BYTES:
                self._log_path.unlink()
        log = self._log_path.open("a", encoding="utf-8")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"--- arcan started {self.spec.target} at {stamp}\n")
        log.flush()
        self._log_offset = log.tell()
        return log

    # -- failures ----------------------------------------------------------------------------

    def _call_failed(self, generation: int, reason: str) -> ToolError:
        """Record a crash or hang seen by a call, tear the run down, and build the call's error."""
        if generation == self._generation and self._state == "ready":
            holder, stop = self._holder, self._stop
            self._holder = self._stop = self._client = None
            if holder is not None and stop is not None:
                # Tear down in the background: the model should hear about the failure now,
                # not after the SDK's kill escalation.
                reaper = asyncio.create_task(_reap(holder, stop), name=f"mcp-reap:{self.name}")
                self._reapers.add(reaper)
                reaper.add_done_callback(self._reapers.discard)
            self._record_failure(reason, state="crashed")
        then = (
            "it is disabled for the rest of the session"
            if self._state == "disabled"
            else "it will be restarted on its next use"
        )
        return ToolError(f"MCP server {self.name!r} {reason}; {then}", hint=self._log_hint())

    def _record_failure(self, reason: str, *, state: ServerState) -> None:
        self._failures += 1
        tail = self._stderr_tail()
        detail = f"{reason} (stderr: {tail})" if tail else reason
        if self._failures > self._max_restarts:
            self._state = "disabled"
            self._error = f"disabled after {self._failures} failures; last: {detail}"
        else:
            self._state, self._error = state, detail
        self.report(self._error)

    def _stderr_tail(self, lines: int = 3) -> str:
        if self.spec.config.url:
            return ""
        try:
            with self._log_path.open("rb") as log:
                log.seek(self._log_offset)
                data = log.read()[-4000:]
        except OSError:
            return ""
        text = data.decode("utf-8", "replace").strip().splitlines()
        return " | ".join(line.strip() for line in text[-lines:] if line.strip())

    def _log_hint(self) -> str:
        if self.spec.config.url:
            return f"check that {self.spec.config.url} is reachable"
        return f"the server's stderr is in {self._log_path}"


async def _reap(holder: asyncio.Task[None], stop: asyncio.Event, *, cancel: bool = False) -> None:
    """Ask a holder to leave its client context, cancelling it if it does not in time.

    With ``cancel`` (a start that failed or timed out: the holder is stuck in the handshake and
    will never see ``stop``), cancel at once; the SDK's shutdown of the process is shielded.
    """
    stop.set()
    if cancel:
        holder.cancel()
    elif not holder.done():
        try:
            await asyncio.wait_for(asyncio.shield(holder), _STOP_TIMEOUT_S)
        except TimeoutError:
            holder.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await holder


@contextlib.asynccontextmanager
async def _closing_log(client: Client, log: Any) -> Any:
    """Enter ``client``; close the stderr log once the server process is gone."""
    try:
        async with client:
            yield client
    finally:
        log.close()


@contextlib.asynccontextmanager
async def _http_client(url: str, headers: dict[str, str], info: Any) -> Any:
    """A client for a streamable-HTTP server, with the configured headers on every request."""
    import httpx2  # noqa: PLC0415 - the SDK's HTTP library, present whenever ``mcp`` is
    from mcp import Client  # noqa: PLC0415
    from mcp.client.streamable_http import streamable_http_client  # noqa: PLC0415

    async with httpx2.AsyncClient(
        headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)
    ) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, client_info=info) as client:
            yield client


async def _list_tools(client: Client) -> tuple[McpToolInfo, ...]:
    tools: list[McpToolInfo] = []
    cursor: str | None = None
    for _ in range(_MAX_TOOL_PAGES):
        page = await client.list_tools(cursor=cursor)
        for tool in page.tools:
            schema = dict(tool.input_schema)
            schema.setdefault("type", "object")
            if schema.get("type") == "object":
                schema.setdefault("properties", {})
            tools.append(
                McpToolInfo(
                    name=tool.name,
                    description=tool.description or (tool.title or ""),
                    input_schema=schema,
                    read_only=bool(tool.annotations and tool.annotations.read_only_hint),
                )
            )
        cursor = page.next_cursor
        if cursor is None:
            break
    return tuple(tools)


def _flatten(result: CallToolResult) -> CallOutcome:
    """Turn a tool result into the text the model reads."""
    from mcp.types import (  # noqa: PLC0415
        AudioContent,
        EmbeddedResource,
        ImageContent,
        ResourceLink,
        TextContent,
        TextResourceContents,
    )

    parts: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            parts.append(block.text)
        elif isinstance(block, ImageContent | AudioContent):
            parts.append(f"[{block.type} {block.mime_type}, {len(block.data) * 3 // 4} bytes]")
        elif isinstance(block, ResourceLink):
            parts.append(f"[resource {block.uri}]")
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            if isinstance(resource, TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[resource {resource.uri}, binary]")
    if not parts and result.structured_content is not None:
        import json  # noqa: PLC0415

        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return CallOutcome(text="\n".join(parts), is_error=result.is_error)


def _describe(error: BaseException) -> str:
    """One line for an error the SDK raised, digging into exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, FileNotFoundError):
        return f"command not found ({error.filename or error})"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "mcp":
        return "the MCP SDK is not installed (pip install 'arcan[mcp]')"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _safe_file_name(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in name) or "server"
