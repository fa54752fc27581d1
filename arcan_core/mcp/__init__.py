"""MCP servers as tools: configuration, connections, the tool adapter, and the session's manager.

Importing this package does not import the MCP SDK; a server's connection loads it when the
server first starts.
"""

from arcan_core.mcp.cache import ToolCache
from arcan_core.mcp.config import MCP_JSON, ServerSpec, load_mcp_json, resolve_servers
from arcan_core.mcp.connection import CallOutcome, McpConnection, McpToolInfo, ServerState
from arcan_core.mcp.manager import McpManager, ServerStatus, ToolStatus, describe_servers
from arcan_core.mcp.tool import McpArguments, McpTool, make_tools, qualified_name

__all__ = [
    "MCP_JSON",
    "CallOutcome",
    "McpArguments",
    "McpConnection",
    "McpManager",
    "McpTool",
    "McpToolInfo",
    "ServerSpec",
    "ServerState",
    "ServerStatus",
    "ToolCache",
    "ToolStatus",
    "describe_servers",
    "load_mcp_json",
    "make_tools",
    "qualified_name",
    "resolve_servers",
]
