"""Pilot tests of the other screens: session picker, help, first run, themes."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from arcan_core.protocol.events import Event, TurnStarted
from arcan_core.protocol.operations import Rewind
from arcan_core.protocol.records import SessionHeader
from arcan_tui.app import AppOptions, ArcanApp, Connection, ConnectRequest
from arcan_tui.screens.first_run import FirstRunScreen
from arcan_tui.screens.help import HelpScreen
from arcan_tui.screens.sessions import PickedSession, SessionPicker, ago
from tests.tui_support import ScriptedCore, make_app, screen_text, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

SIZE = (110, 34)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def write_session(
    project: Path, session_id: str, title: str, prompts: list[str], age_h: int
) -> None:
    """Write a session log the way the store does: a header line, then event envelopes."""
    sessions = project / ".arcan" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    created = NOW - timedelta(hours=age_h)
    header = SessionHeader(
        session_id=session_id,
        arcan_version="0",
        created=created,
        cwd=str(project),
        provider="scripted",
        model="demo",
        title=title,
    )
    lines = [header.model_dump_json()]
    for seq, prompt in enumerate(prompts, start=1):
        event = Event(
            session_id=session_id,
            seq=seq,
            ts=created + timedelta(minutes=seq),
            msg=TurnStarted(turn_id=f"{session_id}-t{seq}", prompt=prompt),
        )
        lines.append(event.model_dump_json())
    (sessions / f"{session_id}.jsonl").write_text("\n".join(lines) + "\n")


def test_ago_is_coarse() -> None:
    assert ago(NOW, NOW) == "just now"
    assert ago(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert ago(NOW - timedelta(hours=3), NOW) == "3 h ago"
    assert ago(NOW - timedelta(days=2), NOW) == "2 d ago"


async def test_picker_lists_newest_first_filters_and_resumes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_session(project, "20261118T120000-aaaaaa", "old refactor", ["refactor the parser"], 48)
    write_session(
        project,
        "20261120T100000-bbbbbb",
        "fix login",
        ["fix the login bug", "add a test for tokens"],
        2,
    )
    core = ScriptedCore()
    requests: list[ConnectRequest] = []
    app = make_app(core, tmp_path, project=project)
    original = app._connect

    async def recording(request: ConnectRequest) -> object:
        requests.append(request)
        return await original(request)

    app._connect = recording  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        app.chat.prompt.set_text("/sessions")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, SessionPicker) and bool(app.screen.sessions)
        )
        picker = app.screen
        assert isinstance(picker, SessionPicker)
        await wait_until(pilot, lambda: bool(picker.prompts))
        lines = [line for line in screen_text(app).splitlines() if "turns" in line]
        assert "fix login" in lines[0]
        assert "old refactor" in lines[1]
        assert "2 turns" in lines[0]
        # Filter by the text of a prompt, not only the title.
        await pilot.press(*"tokens")
        await pilot.pause()
        text = screen_text(app)
        assert "fix login" in text
        assert "old refactor" not in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(requests) == 2)
        assert requests[-1] == ConnectRequest(resume="20261120T100000-bbbbbb")


async def test_picker_fork_and_rewind(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_session(project, "20261120T100000-bbbbbb", "fix login", ["first ask", "second ask"], 2)
    core = ScriptedCore()
    app = make_app(core, tmp_path, project=project)
    async with app.run_test(size=SIZE) as pilot:
        results: list[PickedSession | None] = []
        app.push_screen(SessionPicker(project, now=NOW), results.append)
        await wait_until(
            pilot, lambda: isinstance(app.screen, SessionPicker) and bool(app.screen.prompts)
        )
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert results == [PickedSession("20261120T100000-bbbbbb", fork=True)]
        app.push_screen(SessionPicker(project, now=NOW), results.append)
        await wait_until(
            pilot, lambda: isinstance(app.screen, SessionPicker) and bool(app.screen.prompts)
        )
        await pilot.press("ctrl+r")
        await pilot.pause()
        text = screen_text(app)
        assert "1. first ask" in text
        assert "2. second ask" in text
        await pilot.press("down", "enter")
        await pilot.pause()
        assert results[-1] == PickedSession(
            "20261120T100000-bbbbbb", rewind_turn="20261120T100000-bbbbbb-t2"
        )


async def test_rewind_choice_reconnects_and_sends_rewind(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.chat._on_picked(PickedSession("sid", rewind_turn="t7"))
        await wait_until(pilot, lambda: Rewind(turn_id="t7") in core.ops)


async def test_picker_escape_closes(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.chat.show_sessions()
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.pause()
        assert "no sessions" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SessionPicker)


async def test_help_lists_keys_commands_and_custom(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".arcan" / "commands").mkdir(parents=True)
    (project / ".arcan" / "commands" / "ship.md").write_text("Ship it carefully.")
    app = make_app(ScriptedCore(), tmp_path, project=project)
    async with app.run_test(size=(110, 60)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for needle in ("Ctrl+G", "/compact", "/theme", "/export", "/ship", "Ship it carefully."):
            assert needle in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_first_run_offers_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    core = ScriptedCore()
    requests: list[ConnectRequest] = []

    async def connect(request: ConnectRequest) -> Connection:
        requests.append(request)
        # No provider configured: the first call finds nothing; the demo choice connects.
        return Connection(core) if request.provider else Connection(None, needs_setup=True)

    project = tmp_path / "project"
    project.mkdir()
    app = ArcanApp(connect, AppOptions(project_dir=project, history_root=tmp_path / "h"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "No model provider is configured" in text
        assert "OPENAI_API_KEY" in text
        assert "sk-test" not in text  # names only, never values
        assert "try the built-in demo" in text
        await pilot.press("d")
        await wait_until(pilot, lambda: len(requests) == 2)
        assert requests[-1] == ConnectRequest(provider="scripted")
        await wait_until(pilot, lambda: app.core is core)


async def test_config_error_after_paint_exits_with_code_2(tmp_path: Path) -> None:
    from arcan_core.errors import ConfigError  # noqa: PLC0415

    async def connect(request: ConnectRequest) -> Connection:
        del request
        raise ConfigError("bad value for mode", hint="use one of plan, ask")

    project = tmp_path / "project"
    project.mkdir()
    app = ArcanApp(connect, AppOptions(project_dir=project, history_root=tmp_path / "h"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.return_code == 2


async def test_theme_switch_is_remembered(tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('# my settings\nmodel = "x"\n\n[ui]\nshow_thinking = false\n')
    app = make_app(ScriptedCore(), tmp_path, user_config=config)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "arcan-dark"
        app.chat.prompt.set_text("/theme arcan-light")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "arcan-light"
        app.chat.prompt.set_text("/theme")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme != "arcan-light"
        app.chat.prompt.set_text("/theme no-such-theme")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "no theme 'no-such-theme'" in screen_text(app)
    saved = config.read_text()
    assert saved.startswith("# my settings\n")
    parsed = tomllib.loads(saved)
    assert parsed["ui"] == {"show_thinking": False, "theme": app.theme}
    assert parsed["model"] == "x"


async def test_user_theme_file_is_loaded(tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\n')
    (themes / "broken.toml").write_text('name = "broken"\n')  # no primary
    app = make_app(ScriptedCore(), tmp_path, theme_dirs=(themes,), theme="mine")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "mine"
        assert any("broken.toml" in failure for failure in app.theme_failures)


def isolate_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No provider keys and no user config or key file: the first run of a new user."""
    import os  # noqa: PLC0415

    for name in list(os.environ):
        if name.endswith("_API_KEY"):
            monkeypatch.delenv(name)
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))


async def test_demo_from_first_run_labels_provider_and_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse  # noqa: PLC0415

    from arcan_core.providers.registry import provider_class  # noqa: PLC0415
    from arcan_tui.commands.tui_cmd import connect_core  # noqa: PLC0415

    isolate_user(monkeypatch, tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    args = argparse.Namespace()

    async def connect(request: ConnectRequest) -> Connection:
        return await connect_core(args, project, request)

    app = ArcanApp(connect, AppOptions(project_dir=project, history_root=tmp_path / "h"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        await pilot.press("d")
        await wait_until(pilot, lambda: app.core is not None, rounds=500)
        await pilot.pause()
        text = screen_text(app)
        assert "no model" not in text
        assert f"scripted/{provider_class('scripted').default_model}" in text
        await app.action_quit()


def test_continue_without_sessions_fails_before_the_tui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from arcan_tui.cli import main  # noqa: PLC0415

    isolate_user(monkeypatch, tmp_path)

    def started(self: ArcanApp, *args: object, **kwargs: object) -> None:
        raise AssertionError("the TUI started")

    monkeypatch.setattr(ArcanApp, "run", started)
    project = tmp_path / "project"
    project.mkdir()
    assert main(["-C", str(project), "--continue"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"arcan: no session to continue in {project.resolve()}"
    assert err[1].startswith("hint: ")
    assert len(err) == 2
    assert main(["-C", str(project), "--resume", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_continue_opens_the_latest_session(tmp_path: Path) -> None:
    import argparse  # noqa: PLC0415

    from arcan_tui.commands.tui_cmd import session_to_open  # noqa: PLC0415

    project = tmp_path / "project"
    project.mkdir()
    write_session(project, "s-old", "old", ["a"], age_h=5)
    write_session(project, "s-new", "new", ["b"], age_h=1)
    assert session_to_open(argparse.Namespace(continue_=True), project) == "s-new"
    assert session_to_open(argparse.Namespace(resume="s-o"), project) == "s-old"
    assert session_to_open(argparse.Namespace(), project) is None


async def test_failed_screen_worker_is_a_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arcan_core.providers import local  # noqa: PLC0415

    async def broken_probe() -> None:
        raise ValueError("probe broke")

    monkeypatch.setattr(local, "probe_local_servers", broken_probe)

    async def connect(request: ConnectRequest) -> Connection:
        return Connection(None, needs_setup=True)

    project = tmp_path / "project"
    project.mkdir()
    app = ArcanApp(connect, AppOptions(project_dir=project, history_root=tmp_path / "h"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app._notifications))
        message = next(iter(app._notifications)).message
        assert message.startswith(
            "internal error while probing local model servers: ValueError: probe broke"
        )
        assert isinstance(app.screen, FirstRunScreen)  # still usable: d, l, q work
        assert app.is_running
