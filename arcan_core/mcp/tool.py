"""MCP tools as arcan ``Tool``s: one subclass per server tool, made when the server lists it.

A built-in tool's schema comes from its pydantic input model. An MCP tool's schema comes from the
server, so ``McpTool`` overrides ``input_schema`` with the listed JSON Schema and takes its input as
``McpArguments`` (a model that keeps every key): the executor validates the raw arguments against
the server's schema, exactly as for a built-in, and the call passes them on unchanged.

The name the model sees is ``mcp__SERVER__TOOL``, reduced to the characters and length every
provider accepts (``[A-Za-z0-9_-]``, 64 at most); a clash after reduction gets a numeric suffix.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, ClassVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict

from arcan_core.tools.base import Tool, ToolCategory, ToolContext, ToolResult

if TYPE_CHECKING:
    from collections.abc import Iterable

    from arcan_core.mcp.connection import McpConnection, McpToolInfo

__all__ = ["McpArguments", "McpTool", "make_tools", "qualified_name"]

_MAX_NAME = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class McpArguments(BaseModel):
    """The arguments of an MCP call: whatever object the server's schema admits, kept as is."""

    model_config = ConfigDict(extra="allow", frozen=True)


class McpTool(Tool[McpArguments]):
    """Base of the classes ``make_tools`` builds; each binds one server tool.

    Class attributes set per tool: ``name`` (qualified), ``description``, ``read_only`` and
    ``category`` (from the server's ``readOnlyHint``: ``read``, else ``fetch``: the policy's
    category for calls that act outside the workspace, which ask in every mode but full-auto;
    ``execute`` would make the policy read the arguments as a shell command), ``server`` and
    ``remote_name`` (what to call), and ``schema``.
    """

    name: ClassVar[str] = "mcp"
    description: ClassVar[str] = ""
    input_model: ClassVar[type[BaseModel]] = McpArguments
    server: ClassVar[str] = ""
    remote_name: ClassVar[str] = ""
    schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    category: ClassVar[ToolCategory] = "fetch"

    def __init__(self, connection: McpConnection) -> None:
        self._connection = connection

    @classmethod
    def input_schema(cls) -> dict[str, Any]:
        """Return the server's JSON Schema for this tool, as the model sees it."""
        return {key: value for key, value in cls.schema.items() if key != "$schema"}

    @classmethod
    def validation_schema(cls) -> dict[str, Any]:
        """Return the server's JSON Schema: calls are checked against exactly what it accepts."""
        return cls.schema

    async def run(self, args: McpArguments, ctx: ToolContext) -> ToolResult:
        """Call the tool on its server (starting or restarting the server if needed)."""
        del ctx
        outcome = await self._connection.call_tool(self.remote_name, args.model_dump())
        return ToolResult(content=outcome.text, is_error=outcome.is_error)


def qualified_name(server: str, tool: str, taken: set[str] | None = None) -> str:
    """Return ``mcp__server__tool`` in the characters and length providers accept.

    Args:
        server: the configured server name.
        tool: the tool's name on the server.
        taken: names already given out; the result avoids them and is added to the set.
    """
    base = f"mcp__{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', tool)}"
    if len(base) > _MAX_NAME:
        digest = hashlib.sha256(base.encode()).hexdigest()[:8]
        base = f"{base[: _MAX_NAME - 9]}_{digest}"
    name, counter = base, 2
    while taken is not None and name in taken:
        suffix = f"_{counter}"
        name, counter = f"{base[: _MAX_NAME - len(suffix)]}{suffix}", counter + 1
    if taken is not None:
        taken.add(name)
    return name


def make_tools(
    connection: McpConnection, infos: Iterable[McpToolInfo], taken: set[str]
) -> list[McpTool]:
    """Build one ``McpTool`` per listed tool of ``connection``."""
    tools: list[McpTool] = []
    for info in infos:
        try:
            Draft202012Validator.check_schema(info.input_schema)
        except SchemaError as error:
            # One broken schema must not keep the server's other tools (or the session) out.
            connection.report(f"tool {info.name!r} has an invalid input schema: {error.message}")
            continue
        qualified = qualified_name(connection.name, info.name, taken)
        description = info.description or f"{info.name} (MCP server {connection.name})"
        attributes: dict[str, Any] = {
            "name": qualified,
            "description": f"[MCP {connection.name}] {description}",
            "read_only": info.read_only,
            "category": "read" if info.read_only else "fetch",
            "server": connection.name,
            "remote_name": info.name,
            "schema": info.input_schema,
            "__doc__": f"The MCP tool {info.name!r} of server {connection.name!r}.",
        }
        cls = type(f"McpTool_{qualified}", (McpTool,), attributes)
        tools.append(cls(connection))
    return tools
