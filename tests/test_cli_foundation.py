"""The installed ``arcan`` command: version, sessions, config, and how errors look."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from arcan_core import __version__
from arcan_core.protocol.events import Event, TurnStarted
from arcan_core.protocol.records import SessionHeader
from arcan_core.store import ProjectPaths, SessionWriter
from arcan_tui.errors_edge import configure_debug_logging

ARCAN = Path(sys.executable).with_name("arcan")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with isolated config and state directories and no ARCAN_* settings."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ARCAN_") and not name.endswith("_BASE_URL")
    }
    clean["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    clean["XDG_STATE_HOME"] = str(tmp_path / "state")
    return clean


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "project").mkdir()
    return tmp_path / "project"


def arcan(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ARCAN), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def add_session(project: Path, session_id: str, prompt: str) -> None:
    created = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    header = SessionHeader(
        session_id=session_id,
        arcan_version=__version__,
        created=created,
        cwd=str(project),
        provider="anthropic",
        model="claude-test",
    )
    with SessionWriter.create(ProjectPaths(project), header) as writer:
        writer.append(
            Event(
                session_id=session_id,
                seq=0,
                ts=created,
                msg=TurnStarted(turn_id="t1", prompt=prompt),
            )
        )


def assert_one_error_line(done: subprocess.CompletedProcess[str], code: int) -> list[str]:
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("arcan: ")
    assert len(lines) <= 2
    if len(lines) == 2:
        assert lines[1].startswith("hint: ")
    return lines


def test_version(env: dict[str, str], project: Path) -> None:
    done = arcan("--version", env=env, cwd=project)
    assert (done.returncode, done.stdout) == (0, f"arcan {__version__}\n")


def test_sessions_lists_the_project_s_sessions(env: dict[str, str], project: Path) -> None:
    add_session(project, "20261125T090000-aaaaaa", "fix the flaky test")
    add_session(project, "20261125T100000-bbbbbb", "write the docs")
    done = arcan("sessions", env=env, cwd=project)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["ID", "UPDATED", "TURNS", "MODEL", "TITLE"]
    assert len(rows) == 2
    assert rows[0].split()[0] == "20261125T100000-bbbbbb"  # same time: the later id first
    assert "fix the flaky test" in done.stdout
    as_json = json.loads(
        arcan("sessions", "--json", "-C", str(project), env=env, cwd=Path("/")).stdout
    )
    assert {item["id"] for item in as_json} == {"20261125T090000-aaaaaa", "20261125T100000-bbbbbb"}
    assert as_json[0]["turns"] == 1


def test_sessions_in_an_empty_project(env: dict[str, str], project: Path) -> None:
    done = arcan("sessions", env=env, cwd=project)
    assert (done.returncode, done.stdout) == (0, "")
    assert "no sessions" in done.stderr
    assert not (project / ".arcan").exists()


def test_config_shows_values_with_their_source_and_redacts(
    env: dict[str, str], project: Path
) -> None:
    (project / ".arcan").mkdir()
    config_file = project / ".arcan" / "config.toml"
    config_file.write_text('provider = "anthropic"\n[harness]\nmax_turns = 12\n')
    env["ARCAN_BASE_URL"] = "https://bob:hunter2pass@proxy.example/v1"
    env["ARCAN_MODEL"] = "sk-ant-pasted-by-mistake-0123"
    done = arcan("config", "--mode", "plan", env=env, cwd=project)
    assert done.returncode == 0, done.stderr
    lines = {line.split(" = ")[0]: line for line in done.stdout.splitlines()}
    assert lines["provider"].endswith(f"# {config_file}")
    assert lines["harness.max_turns"].split("#")[0].strip() == "harness.max_turns = 12"
    assert lines["mode"].endswith("# command line")
    assert lines["ui.theme"].endswith("# default")
    assert "hunter2pass" not in done.stdout
    assert "sk-ant-pasted" not in done.stdout
    assert '"https://[REDACTED]@proxy.example/v1"' in lines["base_url"]
    assert lines["base_url"].endswith("# environment (ARCAN_BASE_URL)")


def test_config_json_keeps_json_types_and_redacts(env: dict[str, str], project: Path) -> None:
    (project / ".arcan").mkdir()
    (project / ".arcan" / "config.toml").write_text(
        '[harness]\nmax_turns = 12\n[permissions]\nallow = ["bash(git status*)"]\n'
    )
    env["ARCAN_BASE_URL"] = "https://bob:hunter2pass@proxy.example/v1"
    done = arcan("config", "--json", "--mode", "plan", env=env, cwd=project)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["mode"] == {"value": "plan", "source": "command line"}
    assert data["model"]["value"] is None
    assert data["harness.max_turns"]["value"] == 12
    assert data["sandbox.enabled"]["value"] is True
    assert data["permissions.allow"]["value"] == ["bash(git status*)"]
    assert data["base_url"]["value"] == "https://[REDACTED]@proxy.example/v1"
    assert "hunter2pass" not in done.stdout


def test_a_bad_config_is_one_line_and_exit_2(env: dict[str, str], project: Path) -> None:
    (project / ".arcan").mkdir()
    (project / ".arcan" / "config.toml").write_text("[harness]\nmax_turnz = 3\n")
    lines = assert_one_error_line(arcan("config", env=env, cwd=project), 2)
    assert "harness.max_turnz: unknown key" in lines[0]


def test_usage_errors_are_one_line_and_exit_2(env: dict[str, str], project: Path) -> None:
    assert_one_error_line(arcan("sessions", "--bogus", env=env, cwd=project), 2)
    assert_one_error_line(arcan("--mode", "yolo", "sessions", env=env, cwd=project), 2)
    lines = assert_one_error_line(arcan("sessions", "-C", "/no/such/dir", env=env, cwd=project), 2)
    assert "not a directory" in lines[0]


def test_debug_shows_the_traceback_and_saves_it(env: dict[str, str], project: Path) -> None:
    (project / ".arcan").mkdir()
    (project / ".arcan" / "config.toml").write_text("[harness\n")
    env["ARCAN_DEBUG"] = "1"
    done = arcan("config", env=env, cwd=project)
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    log_dir = Path(env["XDG_STATE_HOME"]) / "arcan" / "logs"
    logs = list(log_dir.glob("error-*.log"))
    assert len(logs) == 1
    assert "ConfigError" in logs[0].read_text()
    assert list(log_dir.glob("debug-*.log"))  # logging goes to a file in debug mode


def test_common_flags_work_before_and_after_the_subcommand(
    env: dict[str, str], project: Path
) -> None:
    for args in (["--model", "m1", "config"], ["config", "--model", "m1"]):
        done = arcan(*args, env=env, cwd=project)
        (line,) = [line for line in done.stdout.splitlines() if line.startswith("model = ")]
        assert line.split("#")[0].strip() == 'model = "m1"'
        assert line.endswith("# command line")


def test_debug_log_records_every_arcan_logger_with_secrets_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = configure_debug_logging()
    assert path is not None
    try:
        # The providers and ACP log under short "arcan.*" names, the rest under __name__.
        logging.getLogger("arcan.providers").debug("POST /v1/messages key=sk-ant-api03-abcdefgh")
        logging.getLogger("arcan_core.harness.watcher").info("watching 3 paths")
        text = path.read_text()
    finally:
        for name in ("arcan", "arcan_core", "arcan_tui"):
            logger = logging.getLogger(name)
            for handler in list(logger.handlers):
                if getattr(handler, "baseFilename", None) == str(path):
                    logger.removeHandler(handler)
                    handler.close()
            logger.setLevel(logging.NOTSET)
    assert "arcan.providers: POST /v1/messages key=[REDACTED]" in text
    assert "sk-ant-api03" not in text
    assert "arcan_core.harness.watcher: watching 3 paths" in text


@pytest.mark.parametrize("command", ["config", "sessions"])
def test_a_reader_that_stops_early_is_not_an_internal_error(
    env: dict[str, str], project: Path, command: str
) -> None:
    # `arcan config | head -1`: the pipe closes before arcan writes; nothing may reach stderr.
    for number in range(30):
        add_session(project, f"20261125T0900{number:02d}-abcdef", "a prompt " * 8)
    process = subprocess.Popen(
        [str(ARCAN), command],
        env=env,
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert stderr == ""
