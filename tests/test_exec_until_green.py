"""``arcan exec --until-green``: the exec flags reach the harness; exit 0 only when all is green."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from tests.test_exec_command import _script, exec_arcan

if TYPE_CHECKING:
    from pathlib import Path

FIXED = "def add(a, b):\n    return a + b\n"


def _project(root: Path, *, checks: bool = True) -> Path:
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    if checks:
        # A check without pytest: a plain script that fails until add() adds.
        (root / "check_calc.py").write_text(
            "import sys\nfrom calc import add\nsys.exit(0 if add(2, 2) == 4 else 1)\n"
        )
        (root / ".arcan").mkdir()
        command = json.dumps(f"{sys.executable} check_calc.py")
        (root / ".arcan" / "config.toml").write_text(
            f'[harness.checks.calc]\ncommand = {command}\nwatch = ["**/*.py"]\n'
        )
    return root


def test_green_checks_exit_0(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    script = _script(
        tmp_path,
        [
            {"tool_calls": [{"name": "read", "args": {"path": "calc.py"}}]},
            {"tool_calls": [{"name": "write", "args": {"path": "calc.py", "content": FIXED}}]},
            {"text": "Fixed."},
        ],
    )
    result = exec_arcan(project, script, "fix add", "--mode", "full-auto", "--until-green")
    assert result.returncode == 0, result.stderr
    assert (project / "calc.py").read_text() == FIXED


def test_max_turns_reaches_the_harness_and_an_unmet_check_exits_1(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": [{"text": "Done, I think."}], "repeat": True}))
    result = exec_arcan(
        project, script, "fix add", "--mode", "full-auto", "--until-green", "--max-turns", "1"
    )
    assert result.returncode == 1, result.stderr
    assert "turns ≤ 1 " in result.stderr  # the harness's budget, not the config's default
    assert "calc" in result.stderr


def test_max_cost_reaches_the_harness(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    script = _script(tmp_path, [{"text": "Done."}])
    result = exec_arcan(
        project, script, "fix add", "--mode", "full-auto", "--until-green", "--max-cost", "0.25"
    )
    assert "cost ≤ $0.25 " in result.stderr
    assert result.returncode == 1, result.stderr


def test_until_green_without_checks_is_a_usage_error(tmp_path: Path) -> None:
    project = _project(tmp_path / "project", checks=False)
    script = _script(tmp_path, [{"text": "Done."}])
    result = exec_arcan(project, script, "fix add", "--mode", "full-auto", "--until-green")
    assert result.returncode == 2, result.stderr
    assert "needs checks" in result.stderr
    assert (project / "calc.py").read_text() != FIXED
