"""``arcan exec`` as a user runs it: a real process, the scripted model, real tools and files."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from arcan_core.protocol.events import Event

if TYPE_CHECKING:
    from pathlib import Path

ARCAN = [sys.executable, "-c", "from arcan_tui.cli import entry; entry()"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCAN_", "ANTHROPIC_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["XDG_STATE_HOME"] = str(tmp_path / "xdg-state")
    env["HOME"] = str(tmp_path / "home")
    return env


def _script(tmp_path: Path, steps: list[dict[str, Any]], name: str = "script.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(steps))
    return path


def _scripted(script: Path) -> list[str]:
    return ["--provider", "scripted", "--script", str(script)]


def exec_arcan(
    project: Path, script: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *ARCAN,
            "exec",
            "-C",
            str(project),
            "--provider",
            "scripted",
            "--script",
            str(script),
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(project.parent),
        timeout=60,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "hello.txt").write_text("hello world\n")
    return root


def test_answer_on_stdout_progress_on_stderr(project: Path) -> None:
    script = _script(
        project.parent,
        [
            {
                "text": "Let me look.",
                "tool_calls": [{"name": "read", "args": {"path": "hello.txt"}}],
            },
            {"text": "The file says hello world."},
        ],
    )
    result = exec_arcan(project, script, "what is in hello.txt?", "--no-checkpoints")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The file says hello world.\n"
    lines = result.stderr.splitlines()
    assert any(line.strip() == "✓ read hello.txt" for line in lines)
    assert lines[-1].startswith("arcan: 2 steps · ")
    assert "tokens" in lines[-1]
    assert "$" in lines[-1]


def test_prompt_from_stdin_and_json_lines(project: Path) -> None:
    script = _script(project.parent, [{"text": "pong " * 20}])
    result = exec_arcan(project, script, "--json", stdin="ping\n")
    assert result.returncode == 0, result.stderr
    events = [Event.model_validate_json(line) for line in result.stdout.splitlines()]
    types = [event.msg.type for event in events]
    assert types[0] == "turn_started"
    assert types[-1] == "turn_finished"
    assert "text_delta" not in types  # the log's events, not display deltas
    started = events[0].msg
    assert started.type == "turn_started"
    assert started.prompt == "ping"
    seqs = [event.seq for event in events]
    assert seqs == sorted(seqs)
    # The same events are in the session log.
    log = next((project / ".arcan" / "sessions").glob("*.jsonl"))
    logged = [json.loads(line) for line in log.read_text().splitlines()[1:]]
    assert [e["seq"] for e in logged] == seqs


def test_headless_denial_is_reported_and_the_run_goes_on(project: Path) -> None:
    script = _script(
        project.parent,
        [
            {"tool_calls": [{"name": "write", "args": {"path": "new.txt", "content": "x"}}]},
            {"text": "I could not write the file."},
        ],
    )
    result = exec_arcan(project, script, "write new.txt", "--mode", "ask")
    assert result.returncode == 0, result.stderr
    assert not (project / "new.txt").exists()
    denial = (
        "  ⊘ write new.txt — write needed approval because ask mode asks before edit tools "
        "run, and nobody can approve it in a headless run; to allow it, rerun with --mode "
        "auto-edit or --mode full-auto, or add the allow rule `edit(new.txt)` to "
        ".arcan/permissions.toml\n"
    )
    assert denial in result.stderr
    assert result.stderr.count("denied") == 1
    assert "1 call(s) denied" in result.stderr.splitlines()[-1]
    assert result.stdout == "I could not write the file.\n"


def test_full_auto_mode_writes(project: Path) -> None:
    script = _script(
        project.parent,
        [
            {"tool_calls": [{"name": "write", "args": {"path": "new.txt", "content": "x\n"}}]},
            {"text": "Done."},
        ],
    )
    result = exec_arcan(project, script, "write new.txt", "--mode", "full-auto")
    assert result.returncode == 0, result.stderr
    assert (project / "new.txt").read_text() == "x\n"


def test_provider_error_exits_1_with_a_message(project: Path) -> None:
    script = _script(
        project.parent,
        [{"error": {"type": "auth", "message": "invalid x-api-key", "hint": "check the key"}}],
    )
    result = exec_arcan(project, script, "hi")
    assert result.returncode == 1
    assert "arcan: invalid x-api-key" in result.stderr
    assert "hint: check the key" in result.stderr
    assert result.stdout == ""


def test_max_turns_stops_with_exit_1(project: Path) -> None:
    step = {"tool_calls": [{"name": "read", "args": {"path": "hello.txt"}}]}
    script = _script(project.parent, [step, step, step, {"text": "never"}])
    result = exec_arcan(project, script, "loop", "--max-turns", "2")
    assert result.returncode == 1
    assert "stopped: the step limit (2) was reached" in result.stderr


def test_continue_goes_on_with_the_latest_session(project: Path) -> None:
    first = _script(project.parent, [{"text": "The secret word is tangerine."}], "one.json")
    result = exec_arcan(project, first, "remember a word", "--json")
    assert result.returncode == 0, result.stderr
    session = Event.model_validate_json(result.stdout.splitlines()[0]).session_id
    second = _script(project.parent, [{"text": "It was tangerine."}], "two.json")
    result = exec_arcan(project, second, "what was the word?", "--continue", "--json")
    assert result.returncode == 0, result.stderr
    events = [Event.model_validate_json(line) for line in result.stdout.splitlines()]
    assert {event.session_id for event in events} == {session}
    from arcan_core.store import load_session, rebuild  # noqa: PLC0415

    loaded = load_session(project / ".arcan" / "sessions" / f"{session}.jsonl")
    texts = [m.text() for m in rebuild(loaded.header, loaded.events).messages]
    assert texts == [
        "remember a word",
        "The secret word is tangerine.",
        "what was the word?",
        "It was tangerine.",
    ]


def test_usage_errors_exit_2(project: Path) -> None:
    script = _script(project.parent, [{"text": "x"}])
    result = exec_arcan(project, script, stdin="   \n")
    assert result.returncode == 2
    assert "prompt is empty" in result.stderr
    result = exec_arcan(project, script, "x", "--resume", "nosuchsession")
    assert result.returncode == 2
    assert "arcan:" in result.stderr


def test_ctrl_c_interrupts_with_exit_130(project: Path) -> None:
    script = _script(
        project.parent, [{"text": "slow " * 400, "chunk_chars": 5, "chunk_delay_s": 0.02}]
    )
    process = subprocess.Popen(
        [
            *ARCAN,
            "exec",
            "-C",
            str(project),
            "--provider",
            "scripted",
            "--script",
            str(script),
            "--json",
            "go",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(project.parent),
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # turn_started: the task is running
    assert '"turn_started"' in first
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    finished = [json.loads(line) for line in out.splitlines() if '"turn_finished"' in line]
    assert finished[-1]["msg"]["stop_reason"] == "interrupted"


def test_json_lines_are_scrubbed_like_the_session_log(project: Path) -> None:
    key = "sk-ant-test-SECRET123456"
    token = "plain-value-of-a-token-98765"  # not shaped like a key: scrubbed for its env name
    script = _script(project.parent, [{"text": f"The key is {key} and the token {token}."}])
    env = _env(project.parent)
    env["ANTHROPIC_API_KEY"] = key
    env["DEPLOY_TOKEN"] = token
    result = subprocess.run(
        [*ARCAN, "exec", "-C", str(project), *_scripted(script), "say the key", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert key not in result.stdout
    assert token not in result.stdout
    answers = [
        json.loads(line)["msg"]["message"]
        for line in result.stdout.splitlines()
        if json.loads(line)["msg"]["type"] == "message_appended"
    ]
    assert "[REDACTED]" in json.dumps(answers[-1])
    logs = list((project / ".arcan" / "sessions").glob("*.jsonl"))
    assert logs
    assert key not in logs[0].read_text()


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--max-cost", "-1", "--max-cost -1: a budget in dollars must be 0 or more"),
        ("--max-cost", "nan", "--max-cost nan: a budget in dollars must be 0 or more"),
        ("--max-turns", "0", "--max-turns 0: the task needs at least 1 step"),
    ],
)
def test_impossible_budgets_are_usage_errors(
    project: Path, flag: str, value: str, said: str
) -> None:
    script = _script(project.parent, [{"text": "never"}])
    result = exec_arcan(project, script, "hi", f"{flag}={value}")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"arcan: {said}", result.stderr.splitlines()[1]]
    assert result.stderr.splitlines()[1].startswith("hint: give ")
    assert result.stdout == ""
    assert not (project / ".arcan" / "sessions").exists()


def test_a_missing_api_key_is_a_configuration_error_before_any_session(project: Path) -> None:
    result = subprocess.run(
        [*ARCAN, "exec", "-C", str(project), "--provider", "anthropic", "hi"],
        capture_output=True,
        text=True,
        env=_env(project.parent),  # no ANTHROPIC_* variable, no key file
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "arcan: no API key for the anthropic provider",
        "hint: set ANTHROPIC_API_KEY (or pick another provider with --provider)",
    ]
    assert result.stdout == ""
    assert not (project / ".arcan" / "sessions").exists()


class _Rejects401(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        error = {"type": "authentication_error", "message": "invalid x-api-key"}
        body = json.dumps({"type": "error", "error": error}).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        del format, args


def test_a_key_the_server_rejects_is_a_failed_task_exit_1(project: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Rejects401)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = _env(project.parent)
        env["ANTHROPIC_API_KEY"] = "sk-ant-test-not-a-real-key-000"
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = subprocess.run(
            [
                *ARCAN,
                "exec",
                "-C",
                str(project),
                "--provider",
                "anthropic",
                "--base-url",
                url,
                "hi",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stderr
    assert "invalid x-api-key" in result.stderr
    assert "ANTHROPIC_API_KEY" in result.stderr  # the hint says which key to check
