"""``arcan mcp list`` against a project with a real server and a broken one."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arcan_tui.commands import mcp_cmd

pytest.importorskip("mcp")

ECHO = Path(__file__).parent / "fixtures" / "mcp_echo_server.py"


def _project(tmp_path: Path, servers: dict[str, object]) -> Path:
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return tmp_path


def _args(project: Path, *, as_json: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", "--cwd")
    mcp_cmd.add_arguments(parser)
    argv = ["-C", str(project), "list", *(["--json"] if as_json else [])]
    return parser.parse_args(argv)


def test_list_shows_state_and_tools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    project = _project(
        tmp_path,
        {
            "echo": {"command": sys.executable, "args": [str(ECHO)]},
            "gone": {"command": str(tmp_path / "missing-binary")},
        },
    )
    assert mcp_cmd.run(_args(project)) == 1  # one server failed to start
    out = capsys.readouterr().out
    assert f"echo  [ready, 6 tools]  stdio: {sys.executable} {ECHO}" in out
    assert "  mcp__echo__echo  Return the text, repeated ``times`` times." in out
    assert "gone  [failed]" in out
    assert "error: failed to start: command not found" in out
    assert "stderr: " in out


def test_list_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    project = _project(tmp_path, {"echo": {"command": sys.executable, "args": [str(ECHO)]}})
    assert mcp_cmd.run(_args(project, as_json=True)) == 0
    (server,) = json.loads(capsys.readouterr().out)
    assert server["name"] == "echo"
    assert server["state"] == "ready"
    assert "mcp__echo__crash" in {tool["qualified_name"] for tool in server["tools"]}


def test_no_servers_says_where_to_add_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert mcp_cmd.run(_args(tmp_path)) == 0
    assert ".mcp.json" in capsys.readouterr().out


def test_the_command_is_registered_in_the_cli(tmp_path: Path) -> None:
    project = _project(tmp_path, {"echo": {"command": sys.executable, "args": [str(ECHO)]}})
    arcan = Path(sys.executable).with_name("arcan")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    done = subprocess.run(
        [str(arcan), "-C", str(project), "mcp", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["state"] == "ready"
    assert done.stderr == ""  # the server's stderr went to its log, not ours
