"""The tool lists of MCP servers as last seen, so a session can offer them before starting servers.

A server must be running to list its tools, and the model must see the tools before its first
request. Without a cache every configured server starts when a session opens, whether or not the
model ever calls it. With one, a server seen before is offered from its last listing and started
only when one of its tools is first called; each start refreshes the entry.

Entries are keyed by a hash of the server's name and launch settings (command, arguments,
environment, URL, headers), so a changed declaration is never served a stale list, and no secret
from the environment or a header is written in clear. The file is replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from arcan_core.mcp.connection import McpToolInfo

if TYPE_CHECKING:
    from arcan_core.mcp.config import ServerSpec

__all__ = ["ToolCache"]

CACHE_FILE = "tools.json"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tools: tuple[McpToolInfo, ...]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: int = 1
    servers: dict[str, _Entry] = {}


def _key(spec: ServerSpec) -> str:
    launch = spec.config.model_dump(
        mode="json", include={"command", "args", "env", "url", "headers"}
    )
    text = json.dumps({"name": spec.name, **launch}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class ToolCache:
    """Tool listings by server, in ``directory/tools.json``.

    A cache that cannot be read is treated as empty, and one that cannot be written is skipped:
    it only saves start-up time, so it never fails a session.
    """

    def __init__(self, directory: Path) -> None:
        self._path = directory / CACHE_FILE

    def load(self, spec: ServerSpec) -> tuple[McpToolInfo, ...] | None:
        """Return the last listing of ``spec``'s server, or ``None`` if it was never seen."""
        entry = self._read().servers.get(_key(spec))
        return None if entry is None else entry.tools

    def store(self, spec: ServerSpec, tools: tuple[McpToolInfo, ...]) -> None:
        """Record a fresh listing of ``spec``'s server."""
        data = self._read()
        data.servers[_key(spec)] = _Entry(tools=tools)
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=".tools.")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(data.model_dump_json())
            Path(temporary).replace(self._path)
        except OSError:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()

    def _read(self) -> _File:
        try:
            return _File.model_validate_json(self._path.read_bytes())
        except (OSError, ValidationError):
            return _File()
