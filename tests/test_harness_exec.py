"""``arcan exec --until-green``: a real process, the scripted model, real tools, real checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ARCAN = [sys.executable, "-c", "from arcan_tui.cli import entry; entry()"]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def broken_project(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
    )
    (tmp_path / ".arcan").mkdir()
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    (tmp_path / ".arcan" / "config.toml").write_text(
        f'[harness.checks.tests]\ncommand = {json.dumps(command)}\nwatch = ["**/*.py"]\n'
    )
    return tmp_path


def _exec(project: Path, script: object) -> subprocess.CompletedProcess[str]:
    (project / "script.json").write_text(json.dumps(script))
    env = {**os.environ, "XDG_CONFIG_HOME": str(project / "xdg"), "PYTHONPATH": str(ROOT)}
    argv = [
        *ARCAN,
        "exec",
        "--provider",
        "scripted",
        "--script",
        "script.json",
        "--mode",
        "full-auto",
        "--until-green",
        "make the tests pass",
    ]
    return subprocess.run(
        argv, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_exit_zero_when_the_checks_turn_green(broken_project: Path) -> None:
    fixed = "def add(a, b):\n    return a + b\n"
    script = [
        {"tool_calls": [{"name": "read", "args": {"path": "calc.py"}}]},
        {"tool_calls": [{"name": "write", "args": {"path": "calc.py", "content": fixed}}]},
        {"text": "Fixed."},
    ]
    result = _exec(broken_project, script)
    assert result.returncode == 0, result.stderr
    assert "configured in [harness.checks]" in result.stderr
    assert "All setpoints are met" in result.stderr


def test_exit_one_when_the_agent_stops_short(broken_project: Path) -> None:
    result = _exec(broken_project, {"steps": [{"text": "Done, I think."}], "repeat": True})
    assert result.returncode == 1
    assert "no progress" in result.stderr
    assert "Unmet: tests" in result.stderr
