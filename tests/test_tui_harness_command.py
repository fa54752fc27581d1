"""``/harness`` shows the setpoints and never starts on detected checks without a confirmation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from arcan_core.protocol.operations import Operation, SetHarness
from arcan_tui.slash import HarnessCommand


@dataclass
class _Context:
    project_dir: Path
    submitted: list[Operation] = field(default_factory=list)
    said: list[tuple[str, str]] = field(default_factory=list)

    def submit(self, op: Operation) -> None:
        self.submitted.append(op)

    def say(self, text: str, level: Literal["info", "warning", "error"] = "info") -> None:
        self.said.append((text, level))


def _python_project(root: Path) -> None:
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    (root / "test_demo.py").write_text("def test_ok():\n    assert True\n")


def test_detected_checks_need_a_confirmation(tmp_path: Path) -> None:
    _python_project(tmp_path)
    context = _Context(tmp_path)
    command = HarnessCommand()
    command.run(context, "on")  # type: ignore[arg-type]
    assert context.submitted == []
    text, level = context.said[-1]
    assert level == "warning"
    assert "pytest" in text
    assert "/harness on confirm" in text
    command.run(context, "on confirm")  # type: ignore[arg-type]
    assert context.submitted == [SetHarness(enabled=True)]


def test_configured_checks_start_at_once_and_off_always_works(tmp_path: Path) -> None:
    (tmp_path / ".arcan").mkdir()
    (tmp_path / ".arcan" / "config.toml").write_text('[harness.checks.tests]\ncommand = "true"\n')
    context = _Context(tmp_path)
    command = HarnessCommand()
    command.run(context, "on")  # type: ignore[arg-type]
    command.run(context, "off")  # type: ignore[arg-type]
    assert context.submitted == [SetHarness(enabled=True), SetHarness(enabled=False)]


def test_no_checks_refuses_and_bare_command_shows_setpoints(tmp_path: Path) -> None:
    context = _Context(tmp_path)
    command = HarnessCommand()
    command.run(context, "on")  # type: ignore[arg-type]
    assert context.submitted == []
    assert "none configured" in context.said[-1][0]
    command.run(context, "")  # type: ignore[arg-type]
    assert "Budgets per task" in context.said[-1][0]
    command.run(context, "maybe")  # type: ignore[arg-type]
    assert context.said[-1][0].startswith("usage: /harness")
