"""``arcan mcp list``: the project's MCP servers, their state and their tools.

Every enabled server is started (in parallel, each within its startup timeout) to learn its tools,
then stopped. Exit code 0 when every enabled server started, 1 when one failed.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from arcan_core.mcp import ServerStatus

HELP = "list the MCP servers of the project, their state and their tools"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``list`` action and ``--json``."""
    parser.add_argument("action", choices=("list",), help="what to do (list)")
    parser.add_argument("--json", action="store_true", help="print the servers as JSON")


def render(statuses: tuple[ServerStatus, ...]) -> str:
    """Render servers for a terminal: one header line per server, one line per tool."""
    if not statuses:
        return (
            "no MCP servers configured (add them to .mcp.json or [mcp_servers.NAME] "
            "in .arcan/config.toml)\n"
        )
    lines: list[str] = []
    for server in statuses:
        count = f", {len(server.tools)} tools" if server.state == "ready" else ""
        lines.append(f"{server.name}  [{server.state}{count}]  {server.transport}: {server.target}")
        lines.append(f"  from {server.source}")
        if server.error:
            lines.append(f"  error: {server.error}")
        if server.error and server.log_path:
            lines.append(f"  stderr: {server.log_path}")
        for tool in server.tools:
            mark = " (read-only)" if tool.read_only else ""
            summary = tool.description.strip().splitlines()[0] if tool.description.strip() else ""
            lines.append(f"  {tool.qualified_name}{mark}  {summary}".rstrip())
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Start the project's servers, list them, stop them."""
    import asyncio  # noqa: PLC0415 - keep `arcan --help` light

    from arcan_core.config import load_config  # noqa: PLC0415
    from arcan_core.mcp import describe_servers  # noqa: PLC0415
    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415 - the cli imports us

    workspace = project_dir(args)
    config = load_config(workspace, flags=config_flags(args)).config
    statuses = asyncio.run(describe_servers(workspace=workspace, config=config))
    if args.json:
        payload = [status.model_dump(mode="json") for status in statuses]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render(statuses))
    failed = any(status.state in ("failed", "crashed") for status in statuses)
    return 1 if failed else 0
