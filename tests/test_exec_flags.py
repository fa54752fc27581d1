"""``arcan exec`` flags of the agent-core issue not covered elsewhere: ``--resume ID``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.protocol.events import Event
from arcan_core.store import load_session, rebuild
from tests.test_exec_command import _script, exec_arcan

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
