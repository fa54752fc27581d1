"""Where MCP servers come from: ``.mcp.json``, config tables, ``${VAR}``, and tool names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcan_core.config.model import ArcanConfig, McpServerConfig
from arcan_core.errors import ConfigError
from arcan_core.mcp import load_mcp_json, qualified_name, resolve_servers

if TYPE_CHECKING:
    from pathlib import Path


def _write(workspace: Path, data: object) -> None:
    (workspace / ".mcp.json").write_text(json.dumps(data), encoding="utf-8")


def test_mcp_json_in_the_shared_shape(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "mcpServers": {
                "files": {"command": "npx", "args": ["-y", "fs", "."], "env": {"A": "1"}},
                "docs": {"type": "http", "url": "https://x.test/mcp", "headers": {"H": "v"}},
                "off": {"command": "x", "disabled": True},
            },
            "somethingElse": 1,
        },
    )
    servers = load_mcp_json(tmp_path / ".mcp.json")
    assert servers["files"] == McpServerConfig(
        command="npx", args=("-y", "fs", "."), env={"A": "1"}
    )
    assert servers["docs"].url == "https://x.test/mcp"
    assert servers["docs"].headers == {"H": "v"}
    assert servers["off"].enabled is False


def test_missing_mcp_json_has_no_servers(tmp_path: Path) -> None:
    assert load_mcp_json(tmp_path / ".mcp.json") == {}
    assert resolve_servers(tmp_path) == ()


def test_malformed_mcp_json_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text('{"mcpServers": {\n  "a": }', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mcp_json(tmp_path / ".mcp.json")
    assert ".mcp.json" in caught.value.message
    assert "line 2" in caught.value.message


def test_wrong_shape_names_the_key(tmp_path: Path) -> None:
    _write(tmp_path, {"mcpServers": {"a": {"args": "not-a-list"}}})
    with pytest.raises(ConfigError) as caught:
        load_mcp_json(tmp_path / ".mcp.json")
    assert "mcpServers.a.args" in caught.value.message


def test_config_tables_win_and_a_bare_table_only_toggles(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"mcpServers": {"a": {"command": "from-json"}, "b": {"command": "shared"}}},
    )
    config = ArcanConfig(
        mcp_servers={
            "a": McpServerConfig(command="from-config"),
            "b": McpServerConfig(enabled=False),
            "c": McpServerConfig(url="http://127.0.0.1:1/mcp"),
        }
    )
    specs = {spec.name: spec for spec in resolve_servers(tmp_path, config)}
    assert specs["a"].config.command == "from-config"
    assert specs["a"].source == "config"
    assert specs["b"].config.command == "shared"
    assert specs["b"].config.enabled is False
    assert specs["b"].source == ".mcp.json"
    assert specs["c"].transport == "http"
    assert [spec.name for spec in resolve_servers(tmp_path, config)] == ["a", "b", "c"]


def test_client_servers_win_over_both(tmp_path: Path) -> None:
    _write(tmp_path, {"mcpServers": {"a": {"command": "json"}}})
    specs = resolve_servers(tmp_path, extra={"a": McpServerConfig(command="client")})
    assert specs[0].config.command == "client"
    assert specs[0].source == "client"


def test_variables_are_expanded_and_an_unset_one_is_a_problem(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "mcpServers": {
                "ok": {
                    "command": "${TOOLS}/srv",
                    "args": ["--port", "${PORT:-8080}"],
                    "env": {"TOKEN": "${TOKEN}"},
                },
                "broken": {"url": "https://${HOST}/mcp"},
            }
        },
    )
    environ = {"TOOLS": "/opt/t", "TOKEN": "s3cret"}
    specs = {spec.name: spec for spec in resolve_servers(tmp_path, environ=environ)}
    ok = specs["ok"]
    assert ok.problem is None
    assert ok.config.command == "/opt/t/srv"
    assert ok.config.args == ("--port", "8080")
    assert ok.config.env == {"TOKEN": "s3cret"}
    assert specs["broken"].problem == "environment variable HOST is not set"


def test_a_server_without_command_or_url_is_a_problem(tmp_path: Path) -> None:
    config = ArcanConfig(mcp_servers={"empty": McpServerConfig()})
    (spec,) = resolve_servers(tmp_path, config)
    assert spec.problem == "has neither a command nor a url"


def test_qualified_names() -> None:
    assert qualified_name("time", "get_current_time") == "mcp__time__get_current_time"
    assert qualified_name("my server", "do.it") == "mcp__my_server__do_it"
    taken: set[str] = set()
    first = qualified_name("a.b", "t", taken)
    second = qualified_name("a_b", "t", taken)
    assert first == "mcp__a_b__t"
    assert second == "mcp__a_b__t_2"


@given(st.text(max_size=80), st.text(max_size=80), st.lists(st.text(max_size=80), max_size=5))
def test_qualified_names_are_always_acceptable_and_distinct(
    server: str, tool: str, others: list[str]
) -> None:
    taken: set[str] = set()
    names = [qualified_name(server, tool, taken)]
    names += [qualified_name(server, other, taken) for other in others]
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name)
        assert name.startswith("mcp__")
    assert len(set(names)) == len(names)


def test_importing_the_mcp_package_does_not_import_the_sdk() -> None:
    code = "import sys, arcan_core.mcp; print('mcp' in sys.modules, 'mcp_types' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_an_sse_server_is_disabled_with_the_reason(tmp_path: Path) -> None:
    _write(tmp_path, {"mcpServers": {"old": {"type": "sse", "url": "https://x.test/sse"}}})
    (spec,) = resolve_servers(tmp_path)
    assert spec.problem == (
        "uses the SSE transport, which arcan does not support; use streamable HTTP"
    )
