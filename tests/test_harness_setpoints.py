"""Setpoints: detection per ecosystem, ``arcan harness`` and ``arcan harness init``."""

from __future__ import annotations

import json
import tomllib
from typing import TYPE_CHECKING

import pytest

from arcan_core.config.model import CheckConfig, HarnessConfig
from arcan_core.errors import ConfigError
from arcan_core.harness.setpoints import (
    detect_checks,
    effective_setpoints,
    write_harness_table,
)
from arcan_tui.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def installed(*names: str) -> Callable[[str], str | None]:
    return lambda name: f"/usr/bin/{name}" if name in names else None


def test_python_project_with_tests_ruff_and_mypy(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n[tool.mypy]\n")
    (tmp_path / "tests").mkdir()
    checks, found = detect_checks(tmp_path, which=installed("pytest", "ruff", "mypy"))
    assert found == ("python",)
    assert checks["tests"].command == "pytest -q"
    assert checks["lint"].command == "ruff check ."
    assert checks["types"].command == "mypy ."
    assert "**/*.py" in checks["tests"].watch


def test_python_tools_from_the_project_venv_and_unconfigured_linters(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("")
    (tmp_path / "test_x.py").write_text("")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "pytest").write_text("")
    checks, _ = detect_checks(tmp_path, which=installed("ruff"))
    assert checks["tests"].command == ".venv/bin/pytest -q"
    assert "lint" not in checks  # ruff on PATH but not configured by the project
    assert "types" not in checks


def test_node_rust_go(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": "vitest run"}}))
    (tmp_path / "Cargo.toml").write_text("[package]\nname = 'x'\n")
    (tmp_path / "go.mod").write_text("module x\n")
    which = installed("npm", "cargo", "cargo-clippy", "go")
    checks, found = detect_checks(tmp_path, which=which)
    assert found == ("node", "rust", "go")
    assert checks["tests"].command == "npm test --silent"
    assert checks["rust-tests"].command == "cargo test"
    assert checks["lint"].target == "errors == 0 and warnings == 0"
    assert checks["go-tests"].command == "go test ./..."
    assert checks["vet"].command == "go vet ./..."


def test_npm_stub_script_and_missing_tools_detect_nothing(tmp_path: Path) -> None:
    stub = {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
    (tmp_path / "package.json").write_text(json.dumps(stub))
    (tmp_path / "Cargo.toml").write_text("")
    assert detect_checks(tmp_path, which=installed("npm")) == ({}, ())


def test_configured_checks_win_over_detection(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "tests").mkdir()
    configured = HarnessConfig(checks={"unit": CheckConfig(command="make test")})
    assert effective_setpoints(configured, tmp_path, which=installed("pytest")).source == (
        "configured"
    )
    detected = effective_setpoints(HarnessConfig(), tmp_path, which=installed("pytest"))
    assert detected.source == "detected"
    assert "run `arcan harness init`" in detected.describe()
    assert effective_setpoints(HarnessConfig(), tmp_path, which=installed()).source == "none"


def test_init_appends_and_keeps_other_tables_and_comments(tmp_path: Path) -> None:
    path = tmp_path / ".arcan" / "config.toml"
    path.parent.mkdir()
    path.write_text('# my settings\nmodel = "m"\n\n[permissions]\nallow = ["bash(ls*)"]\n')
    harness = HarnessConfig(
        max_turns=12,
        checks={"tests": CheckConfig(command='pytest -q -k "not slow"', watch=("**/*.py",))},
    )
    write_harness_table(path, harness)
    text = path.read_text()
    assert text.startswith("# my settings\n")
    data = tomllib.loads(text)
    assert data["model"] == "m"
    assert data["permissions"] == {"allow": ["bash(ls*)"]}
    assert HarnessConfig.model_validate(data["harness"]) == harness
    with pytest.raises(ConfigError, match="already has a \\[harness\\] table"):
        write_harness_table(path, harness)
    write_harness_table(path, harness.model_copy(update={"max_turns": 5}), force=True)
    again = tomllib.loads(path.read_text())
    assert again["harness"]["max_turns"] == 5
    assert again["permissions"] == {"allow": ["bash(ls*)"]}


def test_init_refuses_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[broken\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        write_harness_table(path, HarnessConfig())
    assert path.read_text() == "[broken\n"


def test_cli_show_and_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / ".arcan").mkdir()
    (tmp_path / ".arcan" / "config.toml").write_text(
        '[harness]\nmax_turns = 7\n[harness.checks.unit]\ncommand = "make test"\n'
    )
    assert main(["harness", "-C", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "turns ≤ 7" in out
    assert "configured in [harness.checks]" in out
    assert "unit: make test" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["harness", "init", "-C", str(empty)]) == 1
    assert "nothing written" in capsys.readouterr().err


def test_cli_reports_a_bad_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / ".arcan").mkdir()
    (tmp_path / ".arcan" / "config.toml").write_text(
        '[harness.checks.unit]\ncommand = "make test"\ntarget = "passes"\n'
    )
    assert main(["harness", "-C", str(tmp_path)]) == 2
    assert "harness.checks.unit.target" in capsys.readouterr().err
