"""The README's two set-up commands exist and stay in step with CI."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fenced_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        block.strip() for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.DOTALL)
    ]


def steps(command: str) -> list[list[str]]:
    return [shlex.split(step) for step in command.split("&&")]


def ci_lines() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_opens_with_install_and_test_commands() -> None:
    first, second = fenced_commands()[:2]
    assert steps(first)[0] == ["python3", "-m", "venv", ".venv"]
    assert steps(first)[-1] == [".venv/bin/arcan"]
    assert steps(second)[0] == ["python3", "-m", "venv", ".venv"]
    assert steps(second)[-1][:3] == [".venv/bin/python", "-m", "pytest"]


def test_the_commands_refer_to_what_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["arcan"] == "arcan_tui.cli:entry"
    install = steps(fenced_commands()[1])[1]
    spec = install[install.index("-e") + 1]
    extras = re.fullmatch(r"\.\[(.*)\]", spec)
    assert extras is not None
    assert set(extras.group(1).split(",")) <= set(project["optional-dependencies"])


def test_ci_runs_the_readme_test_command_and_installs_the_same_extras() -> None:
    second = steps(fenced_commands()[1])
    lines = ci_lines()
    pytest_runs = [shlex.split(line) for line in lines if " -m pytest" in line]
    assert pytest_runs == [second[-1]]
    installs = [shlex.split(line) for line in lines if "pip install" in line and " -e " in line]
    assert [install[-1] for install in installs] == [second[1][-1]]
