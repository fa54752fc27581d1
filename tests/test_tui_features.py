"""The TUI's /clear, /thinking, /effort and image paste (Ctrl+V, dropped files).

The app is the real ``ArcanApp`` around scripted cores; clipboard tools are real subprocesses:
small fake ``xclip``/``wl-paste``/``osascript`` programs put first on ``PATH`` in a temp dir.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from typing import TYPE_CHECKING

import pytest
from textual import events

from arcan_core.errors import ArcanError
from arcan_core.protocol.events import (
    ModeChanged,
    ModelChanged,
    ReasoningChanged,
    TextDelta,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import Usage
from arcan_core.protocol.operations import SetReasoning, Shutdown, SubmitPrompt
from arcan_tui.app import AppOptions, ArcanApp, Connection, ConnectRequest
from arcan_tui.clipboard import (
    OsascriptReader,
    dropped_images,
    image_media_type,
    read_clipboard_image,
)
from arcan_tui.path_index import IMAGE_SUFFIXES
from arcan_tui.transcript_data import NoticeItem
from tests.tui_support import ScriptedCore, make_app, screen_text, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (100, 30)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
"""Enough of a PNG for the signature check; models never see it in these tests."""


# -- /clear -----------------------------------------------------------------------------------


async def test_clear_opens_a_fresh_session_with_the_same_settings(tmp_path: Path) -> None:
    cores = [ScriptedCore(session_id="s-old"), ScriptedCore(session_id="s-new")]
    requests: list[ConnectRequest] = []

    async def connect(request: ConnectRequest) -> Connection:
        requests.append(request)
        return Connection(cores[len(requests) - 1], provider="anthropic", model="claude-x")

    project = tmp_path / "project"
    project.mkdir()
    options = AppOptions(
        project_dir=project,
        user_config=tmp_path / "config.toml",
        history_root=tmp_path / "history",
        remember_theme=False,
    )
    app = ArcanApp(connect, options)
    async with app.run_test(size=SIZE) as pilot:
        old = cores[0]
        old.emit(
            ModelChanged(provider="openai", model="gpt-5"),
            ModeChanged(mode="auto-edit"),
            ReasoningChanged(effort="high"),
            TurnStarted(turn_id="t1", prompt="first question"),
            TextDelta(text="first answer"),
            UsageUpdated(
                usage=Usage(input_tokens=1500, output_tokens=40),
                session_usage=Usage(input_tokens=1500, output_tokens=40),
                session_cost_usd=0.25,
                context_tokens=1540,
                context_window=200_000,
            ),
            TurnFinished(turn_id="t1", stop_reason="end_turn"),
        )
        await settle(app, pilot)
        assert "first answer" in screen_text(app)
        app.chat.prompt.set_text("/clear")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.core is cores[1])
        await settle(app, pilot)
        fresh = requests[-1]
        assert fresh.fresh
        assert (fresh.provider, fresh.model, fresh.mode, fresh.effort) == (
            "openai",
            "gpt-5",
            "auto-edit",
            "high",
        )
        assert Shutdown() in old.ops  # the old core closed (its log keeps the conversation)
        text = screen_text(app)
        assert "first answer" not in text
        assert "s-old is kept" in text
        state = app.chat.status.state
        assert (state.input_tokens, state.output_tokens, state.cost_usd) == (0, 0, 0.0)
        assert state.context_tokens == 0
        # The next prompt goes to the new session.
        app.chat.prompt.set_text("second question")
        await pilot.press("enter")
        await pilot.pause()
        assert cores[1].ops == [SubmitPrompt(text="second question")]
        assert not any(isinstance(op, SubmitPrompt) for op in old.ops)


async def test_fresh_request_ignores_continue_and_carries_settings(tmp_path: Path) -> None:
    from arcan_tui.commands.tui_cmd import connect_core  # noqa: PLC0415

    (tmp_path / ".arcan").mkdir()
    (tmp_path / ".arcan" / "config.toml").write_text('provider = "scripted"\n')
    args = argparse.Namespace(continue_=True)
    first = await connect_core(args, tmp_path, ConnectRequest(fresh=True))
    assert first.core is not None
    first_id = first.core.session_id
    first.core.submit(Shutdown())
    await first.core.wait_closed()
    second = await connect_core(
        args, tmp_path, ConnectRequest(fresh=True, mode="plan", effort="low", harness=False)
    )
    assert second.core is not None
    assert second.core.session_id != first_id
    assert second.mode == "plan"
    second.core.submit(Shutdown())
    await second.core.wait_closed()


# -- /thinking and /effort ----------------------------------------------------------------------


async def test_thinking_on_off_is_applied_and_remembered(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    config = tmp_path / "config" / "config.toml"
    async with app.run_test(size=SIZE) as pilot:
        app.chat.prompt.set_text("/thinking off")
        await pilot.press("enter")
        await pilot.pause()
        assert app.chat.has_class("-hide-thinking")
        assert tomllib.loads(config.read_text())["ui"]["show_thinking"] is False
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not app.chat.has_class("-hide-thinking")
        assert tomllib.loads(config.read_text())["ui"]["show_thinking"] is True
        app.chat.prompt.set_text("/thinking sideways")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "usage: /thinking" in screen_text(app)


async def test_effort_sends_the_operation_and_shows_the_level(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for line in ("/effort high", "/effort OFF", "/effort extreme"):
            app.chat.prompt.set_text(line)
            await pilot.press("enter")
            await pilot.pause()
        assert core.ops == [
            SetReasoning(effort="high", reason="/effort high"),
            SetReasoning(effort="off", reason="/effort off"),
        ]
        core.emit(ReasoningChanged(effort="medium"))
        await settle(app, pilot)
        text = screen_text(app)
        assert "usage: /effort off | minimal | low | medium | high" in text
        assert "effort medium" in text
        # A model that does not reason: the bar shows no level it would not use.
        core.emit(ReasoningChanged(effort="high", applies=False))
        await settle(app, pilot)
        assert app.chat.status.state.effort == ""


async def test_help_lists_the_new_commands_and_keys(tmp_path: Path) -> None:
    app = make_app(ScriptedCore(), tmp_path)
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = screen_text(app)
        for expected in ("/effort LEVEL", "/thinking [on | off]", "Ctrl+V", "new conversation"):
            assert expected in text


# -- clipboard images -------------------------------------------------------------------------


def _fake_tool(bin_dir: Path, name: str, body: str) -> None:
    """A Python program named ``name``: ``argv`` is in ``args``, stdout bytes via ``out``."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "out = sys.stdout.buffer.write\n" + body
    )
    path.chmod(0o755)


def _xclip(bin_dir: Path, targets: str, data: bytes) -> None:
    _fake_tool(
        bin_dir,
        "xclip",
        f"if args[-1] == 'TARGETS':\n    out({targets.encode()!r})\n"
        f"elif args[-1] == 'image/png':\n    out({data!r})\n"
        "else:\n    sys.exit(1)\n",
    )


@pytest.fixture
def x11(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An X11 session whose PATH holds only the test's fake tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return bin_dir


async def test_ctrl_v_attaches_the_clipboard_image(tmp_path: Path, x11: Path) -> None:
    _xclip(x11, "TARGETS\nUTF8_STRING\nimage/png\n", PNG)
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    project = tmp_path / "project"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"what is this ")
        await pilot.press("ctrl+v")
        await wait_until(pilot, lambda: "@.arcan/attachments/" in app.chat.prompt.text)
        marker = app.chat.prompt.text.split()[-1]
        saved = project / marker[1:]
        assert saved.read_bytes() == PNG
        assert (project / ".arcan" / "attachments" / ".gitignore").read_text().endswith("*\n")
        await pilot.press("enter")
        await pilot.pause()
        [prompt] = [op for op in core.ops if isinstance(op, SubmitPrompt)]
        assert [image.media_type for image in prompt.images] == ["image/png"]


async def test_ctrl_v_without_an_image_says_so(tmp_path: Path, x11: Path) -> None:
    _xclip(x11, "TARGETS\nUTF8_STRING\n", b"")
    app = make_app(ScriptedCore(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+v")
        await wait_until(pilot, lambda: _notices(app) != [])
        assert "holds no image" in _notices(app)[-1]
        assert app.chat.prompt.text == ""


async def test_ctrl_v_without_a_clipboard_tool_says_what_to_install(
    tmp_path: Path, x11: Path
) -> None:
    app = make_app(ScriptedCore(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+v")
        await wait_until(pilot, lambda: _notices(app) != [])
        assert "no clipboard tool" in _notices(app)[-1]
        assert "xclip" in _notices(app)[-1]
        # Text copied inside arcan is still pasted by Ctrl+V when no image is there.
        app.copy_to_clipboard("copied in arcan")
        await pilot.press("ctrl+v")
        await wait_until(pilot, lambda: app.chat.prompt.text == "copied in arcan")


def _notices(app: ArcanApp) -> list[str]:
    return [item.text for item in app.chat.transcript.items if isinstance(item, NoticeItem)]


def test_wayland_reader_asks_for_the_offered_image_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 16
    _fake_tool(
        tmp_path / "bin",
        "wl-paste",
        "if args == ['--list-types']:\n    out(b'text/plain\\nimage/jpeg\\n')\n"
        f"elif args == ['--no-newline', '--type', 'image/jpeg']:\n    out({jpeg!r})\n"
        "else:\n    sys.exit(2)\n",
    )
    env = {"PATH": str(tmp_path / "bin"), "WAYLAND_DISPLAY": "wayland-0"}
    image = read_clipboard_image(env, platform="linux")
    assert (image.media_type, image.source, image.data) == ("image/jpeg", "wl-paste", jpeg)


def test_readers_fall_through_and_refuse_what_is_not_an_image(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    # wl-paste answers with text claiming to be an image; xclip has the real one.
    _fake_tool(bin_dir, "wl-paste", "out(b'image/png\\n' if args == ['--list-types'] else b'hi')\n")
    _xclip(bin_dir, "image/png\n", PNG)
    env = {"PATH": str(bin_dir), "WAYLAND_DISPLAY": "w", "DISPLAY": ":0"}
    assert read_clipboard_image(env, platform="linux").source == "xclip"
    with pytest.raises(ArcanError, match="no clipboard tool"):
        read_clipboard_image({"PATH": str(bin_dir)}, platform="linux")


def test_macos_osascript_writes_the_png_to_the_file_it_is_given(tmp_path: Path) -> None:
    _fake_tool(
        tmp_path / "bin",
        "osascript",
        f"assert 'on run argv' in args\nopen(args[-1], 'wb').write({PNG!r})\n",
    )
    env = {"PATH": str(tmp_path / "bin")}
    image = read_clipboard_image(env, platform="darwin", readers=(OsascriptReader(),))
    assert image.data == PNG
    assert not OsascriptReader().usable(env, "linux")


def test_image_signatures() -> None:
    assert image_media_type(PNG) == "image/png"
    assert image_media_type(b"GIF89a...") == "image/gif"
    assert image_media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_media_type(b"<html>") is None


# -- dropped files ------------------------------------------------------------------------------


def test_dropped_paths_are_recognised_in_the_forms_terminals_paste(tmp_path: Path) -> None:
    spaced = tmp_path / "my shot.png"
    spaced.write_bytes(PNG)
    plain = tmp_path / "b.jpg"
    plain.write_bytes(b"\xff\xd8\xff")
    assert dropped_images(f"'{spaced}'", IMAGE_SUFFIXES) == [spaced]
    assert dropped_images(str(spaced).replace(" ", "\\ "), IMAGE_SUFFIXES) == [spaced]
    assert dropped_images(f"file://{str(spaced).replace(' ', '%20')}", IMAGE_SUFFIXES) == [spaced]
    assert dropped_images(f"{plain}\n'{spaced}'", IMAGE_SUFFIXES) == [plain, spaced]
    assert dropped_images(f"look at {plain}", IMAGE_SUFFIXES) is None
    assert dropped_images(str(tmp_path / "missing.png"), IMAGE_SUFFIXES) is None


async def test_pasting_an_image_path_attaches_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "shot.png").write_bytes(PNG)
    outside = tmp_path / "elsewhere" / "screen shot.png"
    outside.parent.mkdir()
    outside.write_bytes(PNG)
    core = ScriptedCore()
    app = make_app(core, tmp_path, project=project)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.chat.prompt
        # As a terminal's bracketed paste arrives: at the app, which forwards it to the focus.
        app.post_message(events.Paste(str(project / "shot.png")))
        await wait_until(pilot, lambda: prompt.text == "@shot.png ")
        # Spaces cannot be in an @ word: a copy under a plain name is attached instead.
        app.post_message(events.Paste(f"'{outside}'"))
        await wait_until(pilot, lambda: "@.arcan/attachments/" in prompt.text)
        app.post_message(events.Paste("just text"))
        await wait_until(pilot, lambda: prompt.text.endswith("just text"))
        await pilot.press("enter")
        await pilot.pause()
        [sent] = [op for op in core.ops if isinstance(op, SubmitPrompt)]
        assert len(sent.images) == 2
