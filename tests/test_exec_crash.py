"""Crash safety: ``arcan exec`` killed with SIGKILL at random moments, then resumed.

Each run is killed after a randomly chosen number of events (so at a different point each time:
streaming, between a tool call and its result, at a turn boundary). Then: every event the dead
process had printed is in the log exactly, the log replays to a valid conversation, and
``arcan exec --continue`` goes on with it.
"""

from __future__ import annotations

import json
import random
import subprocess
from typing import TYPE_CHECKING

import pytest

from arcan_core.agent.conversation import repair
from arcan_core.store import load_session, rebuild
from tests.agent_support import valid
from tests.test_exec_command import ARCAN, _env, _script, _scripted, exec_arcan

if TYPE_CHECKING:
    from pathlib import Path

STEPS = [
    {
        "thinking": "I should read both files.",
        "text": "Reading the files. " * 5,
        "chunk_chars": 6,
        "chunk_delay_s": 0.005,
        "tool_calls": [
            {"name": "read", "args": {"path": "a.txt"}},
            {"name": "read", "args": {"path": "b.txt"}},
        ],
    },
    {
        "text": "Now the notes. " * 5,
        "chunk_chars": 6,
        "chunk_delay_s": 0.005,
        "tool_calls": [{"name": "read", "args": {"path": "notes.txt"}}],
    },
    {"text": "All three files are read; " * 10, "chunk_chars": 6, "chunk_delay_s": 0.005},
]


# Seeds whose kill points land while streaming (2), before the assistant message (5), between two
# parallel calls' results (7), between a call and its result (12) and after the answer (16).
@pytest.mark.parametrize("seed", [2, 20, 15, 16, 12])
def test_kill_9_then_resume(tmp_path: Path, seed: int) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("a.txt", "b.txt", "notes.txt"):
        (project / name).write_text(f"contents of {name}\n")
    script = _script(tmp_path, STEPS)
    process = subprocess.Popen(
        [*ARCAN, "exec", "-C", str(project), *_scripted(script), "--json", "read everything"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(tmp_path),
    )
    assert process.stdout is not None
    kill_after = random.Random(seed).randint(1, 16)  # noqa: S311 - a test's reproducible draw
    printed: list[str] = []
    for line in process.stdout:
        printed.append(line)
        if len(printed) >= kill_after:
            break
    process.kill()  # SIGKILL: no cleanup, no flush, no lock release
    process.wait()
    printed += process.stdout.read().splitlines(keepends=True)
    complete = [line for line in printed if line.endswith("\n")]

    log = next((project / ".arcan" / "sessions").glob("*.jsonl"))
    loaded = load_session(log)
    logged = {event.seq: event for event in loaded.events}
    for line in complete:
        record = json.loads(line)
        assert record["seq"] in logged, f"event {record['seq']} was printed but not logged"
        assert logged[record["seq"]].model_dump(mode="json") == record

    # Resume: the dead process's lock is stale, the cut turn is closed, the conversation goes on.
    again = _script(tmp_path, [{"text": "Resumed and done."}], "again.json")
    result = exec_arcan(project, again, "carry on", "--continue")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Resumed and done.\n"
    final = load_session(log)
    state = rebuild(final.header, final.events)
    # Whole as logged: nothing to repair (two user messages in a row are merged when sent).
    fixed = repair(state.messages)
    assert not fixed.changed, fixed.notes
    assert valid(fixed.messages)
    assert state.messages[0].text() == "read everything"
    assert state.messages[-1].text() == "Resumed and done."
    assert state.open_turn is None
    # Everything logged before the crash is still there, unchanged.
    after = {event.seq: event for event in final.events}
    for seq, event in logged.items():
        assert after[seq] == event
