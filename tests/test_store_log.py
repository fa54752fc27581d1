"""The session log: layout, atomic appends, torn tails, redaction, the sync policy."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcan_core.errors import SchemaVersionError, StoreError
from arcan_core.protocol.events import (
    Event,
    EventMsg,
    MessageAppended,
    TextDelta,
    ToolCallOutput,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.messages import Message, TextBlock
from arcan_core.protocol.records import SessionHeader
from arcan_core.store import ProjectPaths, SessionWriter, load_session, new_session_id
from arcan_core.store.index import SessionMeta
from arcan_core.store.layout import GITIGNORE_TEXT
from tests.test_protocol_roundtrip import events_strategy

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def identity(text: str) -> str:
    return text


def header(session_id: str = "20261125T090000-abcdef", title: str = "") -> SessionHeader:
    return SessionHeader(
        session_id=session_id,
        arcan_version="0.1.0",
        created=T0,
        cwd="/project",
        provider="anthropic",
        model="claude-test",
        title=title,
    )


def event(seq: int, msg: EventMsg, session_id: str = "20261125T090000-abcdef") -> Event:
    return Event(session_id=session_id, seq=seq, ts=T0 + timedelta(seconds=seq), msg=msg)


def sample_events(count: int = 6) -> list[Event]:
    msgs: list[EventMsg] = [
        TurnStarted(turn_id="t1", prompt="fix the bug"),
        MessageAppended(message=Message(role="user", content=(TextBlock(text="fix the bug"),))),
        TextDelta(text="Looking ✓ at it"),
        MessageAppended(message=Message(role="assistant", content=(TextBlock(text="done"),))),
        TurnFinished(turn_id="t1", stop_reason="end_turn"),
        TurnStarted(turn_id="t2", prompt="and the other one"),
    ]
    return [event(seq, msgs[seq % len(msgs)]) for seq in range(count)]


def write_log(paths: ProjectPaths, events: list[Event]) -> Path:
    with SessionWriter.create(paths, header(), redactor=identity) as writer:
        for item in events:
            writer.append(item)
    return writer.path


def test_first_use_creates_arcan_dir_with_its_own_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("build/\n")
    paths = ProjectPaths(tmp_path)
    write_log(paths, sample_events(2))
    assert (tmp_path / ".gitignore").read_text() == "build/\n"
    assert (paths.root / ".gitignore").read_text() == GITIGNORE_TEXT
    assert paths.session_log(header().session_id).exists()
    assert paths.session_log(header().session_id).stat().st_mode & 0o077 == 0


def test_git_sees_config_but_not_sessions(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    paths = ProjectPaths(tmp_path)
    write_log(paths, sample_events(2))
    paths.config_file.write_text('model = "m"\n')
    paths.permissions_file.write_text("")
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert ".arcan/config.toml" in status
    assert ".arcan/permissions.toml" in status
    assert ".arcan/.gitignore" in status
    assert "sessions" not in status


def test_an_edited_arcan_gitignore_is_kept(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    paths.root.mkdir()
    (paths.root / ".gitignore").write_text("*\n")
    paths.ensure()
    assert (paths.root / ".gitignore").read_text() == "*\n"


def test_events_load_back_in_order(tmp_path: Path) -> None:
    events = sample_events(6)
    loaded = load_session(write_log(ProjectPaths(tmp_path), events))
    assert loaded.header == header()
    assert loaded.events == events
    assert loaded.dropped_bytes == 0
    assert loaded.warnings == []


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(events_strategy("20261125T090000-abcdef"), max_size=8))
def test_any_events_load_back_unchanged(tmp_path: Path, events: list[Event]) -> None:
    paths = ProjectPaths(tmp_path / new_session_id())
    assert load_session(write_log(paths, events)).events == events


def _record_ends(data: bytes) -> list[int]:
    """Offset just past the JSON of each line (before its newline)."""
    ends = []
    start = 0
    while (newline := data.find(b"\n", start)) >= 0:
        ends.append(newline)
        start = newline + 1
    return ends


def _check_cut(log: Path, data: bytes, cut: int, events: list[Event]) -> None:
    log.write_bytes(data[:cut])
    ends = _record_ends(data)
    if cut < ends[0]:
        with pytest.raises(StoreError):
            load_session(log)
        return
    loaded = load_session(log)
    complete = sum(1 for end in ends[1:] if end <= cut)
    assert loaded.events == events[:complete]
    kept_until = ends[complete] + 1 if complete < len(ends) else len(data)
    # Bytes past the last complete record (and its newline, if present) are reported, not lost.
    assert loaded.dropped_bytes == max(0, cut - kept_until)
    assert bool(loaded.warnings) == (cut > kept_until)


def test_a_cut_at_every_byte_offset_keeps_exactly_the_complete_records(tmp_path: Path) -> None:
    events = sample_events(6)
    log = write_log(ProjectPaths(tmp_path), events)
    data = log.read_bytes()
    for cut in range(len(data) + 1):
        _check_cut(log, data, cut, events)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(events_strategy("20261125T090000-abcdef"), min_size=1, max_size=6),
    data=st.data(),
)
def test_a_cut_anywhere_in_any_log_keeps_the_complete_records(
    tmp_path: Path, events: list[Event], data: st.DataObject
) -> None:
    log = write_log(ProjectPaths(tmp_path / new_session_id()), events)
    raw = log.read_bytes()
    _check_cut(log, raw, data.draw(st.integers(0, len(raw))), events)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut_back=st.integers(min_value=1, max_value=200))
def test_appending_after_a_torn_tail_keeps_old_and_new_records(
    tmp_path: Path, cut_back: int
) -> None:
    paths = ProjectPaths(tmp_path / new_session_id())
    events = sample_events(6)
    log = write_log(paths, events)
    data = log.read_bytes()
    header_end = data.index(b"\n") + 1
    cut = max(header_end, len(data) - cut_back)
    log.write_bytes(data[:cut])
    before = load_session(log)

    writer = SessionWriter.open_existing(paths, header().session_id, redactor=identity)
    assert writer.loaded is not None
    assert writer.loaded.events == before.events
    extra = event(99, TurnStarted(turn_id="t9", prompt="after the crash"))
    writer.append(extra)
    writer.close()

    after = load_session(log)
    assert after.events == [*before.events, extra]
    # Nothing that was on disk was rewritten: the old bytes are a prefix of the new file.
    assert log.read_bytes().startswith(data[:cut])
    # A cut fragment is now a line of its own (its newline counts); a whole record is kept.
    assert after.dropped_bytes == before.dropped_bytes + (1 if before.dropped_bytes else 0)
    assert len(after.warnings) == len(before.warnings)


def test_a_cut_header_is_an_error_not_an_empty_session(tmp_path: Path) -> None:
    log = write_log(ProjectPaths(tmp_path), [])
    log.write_bytes(log.read_bytes()[:20])
    with pytest.raises(StoreError, match="session header"):
        load_session(log)


def test_a_record_from_a_newer_arcan_is_refused(tmp_path: Path) -> None:
    log = write_log(ProjectPaths(tmp_path), sample_events(1))
    with log.open("a") as handle:
        handle.write(json.dumps({"v": 99, "session_id": "x"}) + "\n")
    with pytest.raises(SchemaVersionError, match="99"):
        load_session(log)


def test_creating_an_existing_session_fails(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    write_log(paths, [])
    with pytest.raises(StoreError, match="exists"):
        SessionWriter.create(paths, header())


def test_an_unsafe_session_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="invalid session id"):
        SessionWriter.create(ProjectPaths(tmp_path), header("../escape"))


def test_append_after_close_fails(tmp_path: Path) -> None:
    writer = SessionWriter.create(ProjectPaths(tmp_path), header())
    writer.close()
    writer.close()  # twice is harmless
    with pytest.raises(StoreError, match="closed"):
        writer.append(sample_events(1)[0])


def test_secrets_never_reach_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", 'tok"en-value-123')
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plain-looking-key-value")
    leaked = (
        'token tok"en-value-123, key plain-looking-key-value, '
        "openai sk-proj-abcdefghijklmnopqrstuvwx, github ghp_abcdefghijklmnopqrstuvwxyz0123"
    )
    paths = ProjectPaths(tmp_path)
    with SessionWriter.create(paths, header()) as writer:
        writer.append(event(0, ToolCallOutput(call_id="c1", chunk=leaked)))
    raw = writer.path.read_text()
    for secret in ('tok\\"en-value-123', "plain-looking-key-value", "sk-proj-", "ghp_"):
        assert secret not in raw
    (loaded,) = load_session(writer.path).events
    assert isinstance(loaded.msg, ToolCallOutput)
    assert loaded.msg.chunk.count("[REDACTED]") == 4


def _meta(paths: ProjectPaths) -> SessionMeta:
    return SessionMeta.loads(paths.session_meta(header().session_id).read_bytes())


def test_sync_points_rewrite_the_listing_sidecar(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    writer = SessionWriter.create(paths, header(), redactor=identity)
    assert _meta(paths).size == writer.path.stat().st_size
    writer.append(event(0, TurnStarted(turn_id="t1", prompt="first prompt\nsecond line")))
    assert _meta(paths).turns == 1
    assert _meta(paths).title == "first prompt"
    writer.append(event(1, TextDelta(text="streaming")))  # display-only: no sync
    assert _meta(paths).size < writer.path.stat().st_size
    writer.append(event(2, TurnFinished(turn_id="t1", stop_reason="end_turn")))
    assert _meta(paths).size == writer.path.stat().st_size
    writer.set_title("A better title")
    assert _meta(paths).title == "A better title"
    writer.close()
    assert not paths.session_lock(header().session_id).exists()


def test_a_secret_in_the_first_prompt_stays_out_of_the_listing_sidecar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-pasted-into-a-prompt")
    paths = ProjectPaths(tmp_path)
    with SessionWriter.create(paths, header()) as writer:
        prompt = "use sk-ant-api03-pasted-into-a-prompt to call the API"
        writer.append(event(0, TurnStarted(turn_id="t1", prompt=prompt)))
        writer.append(event(1, TurnFinished(turn_id="t1", stop_reason="end_turn")))
        assert _meta(paths).title == "use [REDACTED] to call the API"
        writer.set_title("key sk-ant-api03-pasted-into-a-prompt again")
    sidecar = paths.session_meta(header().session_id)
    assert "pasted-into" not in sidecar.read_text()
    assert _meta(paths).title == "key [REDACTED] again"
    # Private like the log: the title is the user's own prompt.
    assert sidecar.stat().st_mode & 0o777 == 0o600


def test_undecodable_text_is_written_not_refused(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    odd = b"bad \xff byte".decode("utf-8", "surrogateescape")
    with SessionWriter.create(paths, header(), redactor=identity) as writer:
        writer.append(event(0, ToolCallOutput(call_id="c1", chunk=odd)))
        writer.append(event(1, TextDelta(text="after")))
    loaded = load_session(writer.path)
    assert [item.msg for item in loaded.events] == [
        ToolCallOutput(call_id="c1", chunk="bad ? byte"),
        TextDelta(text="after"),
    ]
