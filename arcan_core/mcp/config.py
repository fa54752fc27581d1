"""Where MCP servers come from: a project's ``.mcp.json`` and ``[mcp_servers.NAME]`` config tables.

``.mcp.json`` is the file other agents share::

    {"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."],
                  "env": {"DEBUG": "0"}},
        "docs": {"type": "http", "url": "https://example.com/mcp",
                 "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}}}

``${VAR}`` and ``${VAR:-default}`` in a command, argument, env value, URL or header are replaced
from the environment; a variable that is unset and has no default disables that server with a
message that names it, rather than starting it with a hole in its command line.

A ``[mcp_servers.NAME]`` table in ``config.toml`` wins over a ``.mcp.json`` entry of the same
name; a table with neither ``command`` nor ``url`` only switches the ``.mcp.json`` entry on or off
(``enabled = false``), so a user can silence a shared server without editing the shared file.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arcan_core.config.model import McpServerConfig
from arcan_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from arcan_core.config.model import ArcanConfig

__all__ = ["MCP_JSON", "ServerSpec", "load_mcp_json", "resolve_servers"]

MCP_JSON = ".mcp.json"
"""The project file, at the workspace root."""

Source = Literal[".mcp.json", "config", "client"]
"""Where a server was declared: the project file, arcan's config, or an ACP client's session."""

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ServerSpec(BaseModel):
    """One server as the manager runs it: its name, settings, origin, and why it cannot run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    config: McpServerConfig
    source: Source
    problem: str | None = None
    """Set when the declaration cannot run (an unset variable, no command and no URL)."""

    @property
    def transport(self) -> Literal["stdio", "http"]:
        """``http`` for a URL server, ``stdio`` for a command."""
        return "http" if self.config.url else "stdio"

    @property
    def target(self) -> str:
        """The command line or the URL, for display."""
        if self.config.url:
            return self.config.url
        return " ".join((self.config.command or "", *self.config.args)).strip()


class _JsonServer(BaseModel):
    """An entry of ``.mcp.json``; extra keys other agents write are tolerated."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["stdio", "http", "streamable-http", "sse"] | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    disabled: bool = False

    def to_config(self) -> McpServerConfig:
        return McpServerConfig(
            command=self.command,
            args=tuple(self.args),
            env=self.env,
            url=self.url,
            headers=self.headers,
            enabled=not self.disabled,
        )


class _JsonFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mcp_servers: dict[str, _JsonServer] = Field(default_factory=dict, alias="mcpServers")


def load_mcp_json(path: Path) -> dict[str, McpServerConfig]:
    """Read a ``.mcp.json`` file; a missing file has no servers.

    Raises:
        ConfigError: the file is not JSON or does not have the shared shape.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", source=str(path)) from error
    try:
        parsed = _JsonFile.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"not valid JSON (line {error.lineno}, column {error.colno})",
            source=str(path),
            hint='the file holds {"mcpServers": {"NAME": {"command": ..., "args": [...]}}}',
        ) from error
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(first["msg"], source=str(path), key=key) from error
    return {name: entry.to_config() for name, entry in parsed.mcp_servers.items()}


def _json_problems(path: Path) -> dict[str, str]:
    """Declarations in ``.mcp.json`` that are valid for other agents but not for arcan."""
    try:
        parsed = _JsonFile.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return {}  # load_mcp_json reports an unreadable file
    return {
        name: "uses the SSE transport, which arcan does not support; use streamable HTTP"
        for name, entry in parsed.mcp_servers.items()
        if entry.type == "sse"
    }


def _expand(value: str, environ: Mapping[str, str], missing: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _VAR.sub(replace, value)


def _expanded(
    config: McpServerConfig, environ: Mapping[str, str]
) -> tuple[McpServerConfig, str | None]:
    """Return the config with ``${VAR}`` replaced, and a problem if a variable is unset."""
    missing: list[str] = []
    fields: dict[str, Any] = {
        "command": _expand(config.command, environ, missing) if config.command else None,
        "args": tuple(_expand(arg, environ, missing) for arg in config.args),
        "env": {key: _expand(value, environ, missing) for key, value in config.env.items()},
        "url": _expand(config.url, environ, missing) if config.url else None,
        "headers": {key: _expand(value, environ, missing) for key, value in config.headers.items()},
    }
    expanded = config.model_copy(update=fields)
    if missing:
        names = ", ".join(sorted(set(missing)))
        return expanded, f"environment variable {names} is not set"
    return expanded, None


def _problem_of(config: McpServerConfig) -> str | None:
    if config.command and config.url:
        return "has both a command and a url; give one"
    if not config.command and not config.url:
        return "has neither a command nor a url"
    return None


def resolve_servers(
    workspace: Path,
    config: ArcanConfig | None = None,
    *,
    extra: Mapping[str, McpServerConfig] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ServerSpec, ...]:
    """Merge the project's ``.mcp.json``, the config tables and ``extra`` servers, in that order.

    Args:
        workspace: the project root, where ``.mcp.json`` lives.
        config: the effective configuration (its ``mcp_servers`` tables).
        extra: servers an ACP client passed for one session; they win over both files.
        environ: where ``${VAR}`` values come from (default: this process's environment).

    Returns:
        One spec per server name, sorted by name. Specs that cannot run carry a ``problem``.

    Raises:
        ConfigError: ``.mcp.json`` is malformed.
    """
    env = os.environ if environ is None else environ
    shared = load_mcp_json(workspace / MCP_JSON)
    unsupported = _json_problems(workspace / MCP_JSON) if shared else {}
    merged: dict[str, tuple[McpServerConfig, Source]] = {
        name: (server, ".mcp.json") for name, server in shared.items()
    }
    for name, server in (config.mcp_servers if config else {}).items():
        if server.command is None and server.url is None and name in merged:
            # A bare table only switches a shared server on or off.
            base, source = merged[name]
            merged[name] = (base.model_copy(update={"enabled": server.enabled}), source)
        else:
            merged[name] = (server, "config")
    for name, server in (extra or {}).items():
        merged[name] = (server, "client")
    specs: list[ServerSpec] = []
    for name in sorted(merged):
        server, source = merged[name]
        expanded, problem = _expanded(server, env)
        if source == ".mcp.json" and name in unsupported:
            problem = unsupported[name]
        specs.append(
            ServerSpec(
                name=name,
                config=expanded,
                source=source,
                problem=problem or _problem_of(expanded),
            )
        )
    return tuple(specs)
