"""``arcan exec`` flags not covered elsewhere: ``--resume ID``, ``--continue`` before ``exec``."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from arcan_core.protocol.events import Event
from arcan_core.store import load_session, rebuild
from tests.test_exec_command import ARCAN, _env, _script, exec_arcan

if TYPE_CHECKING:
    from pathlib import Path


def test_resume_goes_on_with_the_named_session_not_the_latest(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    sessions = []
    for word in ("apple", "pear"):
        script = _script(tmp_path, [{"text": f"The word is {word}."}], f"{word}.json")
        result = exec_arcan(project, script, f"remember {word}", "--json")
        assert result.returncode == 0, result.stderr
        sessions.append(Event.model_validate_json(result.stdout.splitlines()[0]).session_id)
    older, _latest = sessions
    script = _script(tmp_path, [{"text": "It was apple."}], "again.json")
    result = exec_arcan(project, script, "which word?", "--resume", older, "--json")
    assert result.returncode == 0, result.stderr
    events = [Event.model_validate_json(line) for line in result.stdout.splitlines()]
    assert {event.session_id for event in events} == {older}
    loaded = load_session(project / ".arcan" / "sessions" / f"{older}.jsonl")
    texts = [m.text() for m in rebuild(loaded.header, loaded.events).messages]
    assert texts == ["remember apple", "The word is apple.", "which word?", "It was apple."]


def _first_session(tmp_path: Path) -> tuple[Path, str]:
    project = tmp_path / "project"
    project.mkdir()
    script = _script(tmp_path, [{"text": "The word is plum."}], "first.json")
    result = exec_arcan(project, script, "remember plum", "--json")
    assert result.returncode == 0, result.stderr
    return project, Event.model_validate_json(result.stdout.splitlines()[0]).session_id


@pytest.mark.parametrize("flag", ["--continue", "--resume"])
@pytest.mark.parametrize("placement", ["before", "after"])
def test_resume_flags_work_before_and_after_the_subcommand(
    tmp_path: Path, flag: str, placement: str
) -> None:
    project, session = _first_session(tmp_path)
    # A newer session, so that --continue picking the latest is not confused with --resume.
    if flag == "--continue":
        given = [flag]
    else:
        newer = _script(tmp_path, [{"text": "ok"}], "newer.json")
        assert exec_arcan(project, newer, "unrelated", "--json").returncode == 0
        given = [flag, session]
    script = _script(tmp_path, [{"text": "It was plum."}], "again.json")
    tail = ["-C", str(project), "--provider", "scripted", "--script", str(script)]
    tail += ["which word?", "--json"]
    argv = [*given, "exec", *tail] if placement == "before" else ["exec", *given, *tail]
    result = subprocess.run(
        [*ARCAN, *argv],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    events = [Event.model_validate_json(line) for line in result.stdout.splitlines()]
    # --continue: the first session is the latest; --resume: it is named though not the latest.
    assert {event.session_id for event in events} == {session}
    loaded = load_session(project / ".arcan" / "sessions" / f"{session}.jsonl")
    texts = [m.text() for m in rebuild(loaded.header, loaded.events).messages]
    assert texts[-2:] == ["which word?", "It was plum."]
    assert len(texts) == 4


def test_continue_and_resume_together_is_a_usage_error(tmp_path: Path) -> None:
    project, session = _first_session(tmp_path)
    script = _script(tmp_path, [{"text": "x"}], "x.json")
    result = exec_arcan(project, script, "x", "-c", "-r", session)
    assert result.returncode == 2
    assert "not allowed with" in result.stderr
