"""All of a session's MCP servers: started when first needed, offered as tools, described, stopped.

Usage from a front-end::

    async with McpManager.from_config(workspace, config, notify=warn) as mcp:
        tools = await mcp.tools()     # servers not seen before start now, in parallel
        core = await open_core(options.replace(extra_tools=tuple(tools)))
        ...                           # /mcp: await describe_servers(mcp)
    # leaving the block stops every server

A server that cannot start is reported through ``notify`` and left out of ``tools()``; the others
are offered. ``describe_servers`` gives the front-ends (``arcan mcp list``, ``/mcp`` in the TUI)
each server's state and tools.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from arcan_core.errors import ProtocolError
from arcan_core.mcp.cache import ToolCache
from arcan_core.mcp.config import ServerSpec, Source, resolve_servers
from arcan_core.mcp.connection import McpConnection, ServerState
from arcan_core.mcp.tool import McpTool, make_tools, qualified_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from arcan_core.config.model import ArcanConfig, McpServerConfig

__all__ = ["McpManager", "ServerStatus", "ToolStatus", "describe_servers"]


class ToolStatus(BaseModel):
    """One tool of a server, as front-ends list it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """The name on the server."""
    qualified_name: str
    """The name the model calls (``mcp__server__tool``)."""
    description: str
    read_only: bool


class ServerStatus(BaseModel):
    """One server, as front-ends list it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source: Source
    transport: Literal["stdio", "http"]
    target: str
    """The command line or the URL."""
    state: ServerState
    error: str | None = None
    restarts: int = 0
    log_path: str | None = None
    tools: tuple[ToolStatus, ...] = ()


class McpManager:
    """The MCP servers of one session.

    Args:
        specs: the servers (see ``resolve_servers``).
        workspace: the project root; stdio servers run there.
        log_dir: where stdio servers' stderr goes (default ``<workspace>/.arcan/mcp``).
        notify: called with one line whenever a server fails, restarts or is disabled.
        max_restarts: failures followed by a restart before a server is disabled.
        cache: remember tool listings in ``log_dir`` so that ``tools(lazy=True)`` can offer a
            server seen before without starting it.
    """

    def __init__(
        self,
        specs: Iterable[ServerSpec],
        *,
        workspace: Path,
        log_dir: Path | None = None,
        notify: Callable[[str], None] | None = None,
        max_restarts: int = 2,
        cache: bool = True,
    ) -> None:
        self._workspace = workspace
        self._log_dir = log_dir or workspace / ".arcan" / "mcp"
        self._notify = notify
        self._max_restarts = max_restarts
        self._cache = ToolCache(self._log_dir) if cache else None
        self._connections: dict[str, McpConnection] = {}
        for spec in specs:
            self.add(spec)

    @classmethod
    def from_config(
        cls,
        workspace: Path,
        config: ArcanConfig | None = None,
        *,
        extra: Mapping[str, McpServerConfig] | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> McpManager:
        """Build the manager for a project: ``.mcp.json``, config tables, and ``extra`` servers.

        Raises:
            ConfigError: ``.mcp.json`` is malformed.
        """
        specs = resolve_servers(workspace, config, extra=extra)
        return cls(specs, workspace=workspace, notify=notify)

    def add(self, spec: ServerSpec) -> McpConnection:
        """Add (or replace, if not started) a server; it starts when first needed."""
        existing = self._connections.get(spec.name)
        if existing is not None and existing.state not in ("idle", "disabled"):
            raise ProtocolError(
                f"MCP server {spec.name!r} is already running",
                hint="give the new server another name",
            )
        connection = McpConnection(
            spec,
            workspace=self._workspace,
            log_dir=self._log_dir,
            max_restarts=self._max_restarts,
            notify=self._notify,
            on_listed=self._cache.store if self._cache is not None else None,
        )
        self._connections[spec.name] = connection
        return connection

    @property
    def connections(self) -> tuple[McpConnection, ...]:
        """Every configured server, by name."""
        return tuple(self._connections[name] for name in sorted(self._connections))

    def __bool__(self) -> bool:
        return bool(self._connections)

    def connection(self, name: str) -> McpConnection:
        """Return the server called ``name``.

        Raises:
            ProtocolError: no such server is configured.
        """
        try:
            return self._connections[name]
        except KeyError:
            known = ", ".join(sorted(self._connections)) or "none"
            raise ProtocolError(
                f"no MCP server named {name!r}", hint=f"configured servers: {known}"
            ) from None

    async def start_all(self) -> None:
        """Start every enabled server that is not running, in parallel; failures are recorded."""
        await self._start(
            [c for c in self._connections.values() if c.state not in ("ready", "disabled")]
        )

    async def _start(self, pending: list[McpConnection]) -> None:
        if not pending:
            return
        results = await asyncio.gather(
            *(c.ensure_started() for c in pending), return_exceptions=True
        )
        for result in results:
            # A failed start was recorded on its connection (state, error, notify); anything
            # other than the expected refusal is a bug to surface.
            if isinstance(result, BaseException) and not isinstance(result, ProtocolError):
                raise result

    async def tools(self, *, lazy: bool = True) -> list[McpTool]:
        """Return every usable server's tools as arcan tools, starting servers as needed.

        With ``lazy``, a server whose listing is remembered from an earlier run is offered from
        that listing and starts only when one of its tools is first called; the others start now,
        in parallel. Without it, every enabled server starts now.
        """
        if lazy and self._cache is not None:
            for connection in self._connections.values():
                remembered = self._cache.load(connection.spec)
                if remembered is not None:
                    connection.offer(remembered)
        pending = [
            c
            for c in self._connections.values()
            if c.state not in ("ready", "disabled") and not (lazy and c.state == "idle" and c.tools)
        ]
        await self._start(pending)
        taken: set[str] = set()
        tools: list[McpTool] = []
        for connection in self.connections:
            if connection.state == "ready" or (connection.state == "idle" and connection.tools):
                tools.extend(make_tools(connection, connection.tools, taken))
        return tools

    def status(self) -> tuple[ServerStatus, ...]:
        """Describe every server as it is now, without starting anything."""
        statuses: list[ServerStatus] = []
        taken: set[str] = set()
        for connection in self.connections:
            spec = connection.spec
            log_path = connection.log_path
            statuses.append(
                ServerStatus(
                    name=spec.name,
                    source=spec.source,
                    transport=spec.transport,
                    target=spec.target,
                    state=connection.state,
                    error=connection.error,
                    restarts=connection.restarts,
                    log_path=str(log_path) if log_path else None,
                    tools=tuple(
                        ToolStatus(
                            name=info.name,
                            qualified_name=qualified_name(spec.name, info.name, taken),
                            description=info.description,
                            read_only=info.read_only,
                        )
                        for info in connection.tools
                    ),
                )
            )
        return tuple(statuses)

    async def aclose(self) -> None:
        """Stop every server and wait for their processes to end."""
        await asyncio.gather(*(c.stop() for c in self._connections.values()))

    async def __aenter__(self) -> McpManager:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def describe_servers(
    manager: McpManager | None = None,
    *,
    workspace: Path | None = None,
    config: ArcanConfig | None = None,
    start: bool = False,
) -> tuple[ServerStatus, ...]:
    """Describe MCP servers for ``/mcp`` and ``arcan mcp list``.

    With a running session's ``manager``, describe its servers (starting idle ones first if
    ``start``). Without one, build a manager for ``workspace`` and ``config``, start every server
    to learn its tools, describe them, and stop them again.

    Raises:
        ConfigError: ``.mcp.json`` is malformed (only when no manager is given).
    """
    if manager is not None:
        if start:
            await manager.start_all()
        return manager.status()
    own = McpManager.from_config(workspace or Path.cwd(), config)
    try:
        await own.start_all()
        return own.status()
    finally:
        await own.aclose()
