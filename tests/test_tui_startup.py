"""What ``arcan`` does before its first frame, and that nothing typed during start-up is lost.

The launch time is measured in ``benches/tui_whole_process.py``; these tests pin what the saving
rests on. The real ``arcan`` command runs in a fresh interpreter under Textual's headless driver:
when the first frame holding the prompt is composed, the transcript's Markdown stack, the core,
its configuration and pydantic are not loaded yet (and the cyclic collector is off), and once the
core is connected they are (and it is on again). In process, keys typed while the core is still
opening stay in the prompt, and prompts sent then reach the core once, in order, when it is ready.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from textual.app import App

from arcan_core.protocol.operations import SubmitPrompt
from arcan_tui.app import AppOptions, ArcanApp, Connection, ConnectRequest
from arcan_tui.widgets.prompt import CompletionMenu, PromptInput
from tests.tui_support import ScriptedCore, screen_text, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from textual.app import ComposeResult

SIZE = (100, 30)

# Records the loaded modules at the first frame that shows the prompt, and again at the first
# frame after the core is connected; then quits. Runs `arcan` itself (the cli's main).
PROBE = """
import gc, json, sys
from arcan_tui import app as app_module

seen = {}

def record(self):
    if "first" not in seen:
        chat = self.screen_stack[0] if self.screen_stack else None
        prompt = chat.query("#prompt") if chat is not None else None
        if prompt and prompt.first().region.area:
            seen["first"] = sorted(sys.modules)
            seen["gc_first"] = gc.isenabled()
    elif "connected" not in seen and self.core is not None:
        seen["connected"] = sorted(sys.modules)
        seen["gc_connected"] = gc.isenabled()
        seen["frozen_connected"] = gc.get_freeze_count()
        self.exit()

app_module.ArcanApp.post_display_hook = record
from arcan_tui.cli import main

code = main(sys.argv[1:])
print(json.dumps({"code": code, **seen}))
"""

DEFERRED = (
    "arcan_tui.widgets.transcript",
    "arcan_tui.widgets.blocks",
    "arcan_tui.widgets.approval",
    "arcan_tui.widgets.sensors",
    "arcan_tui.bridge",
    "arcan_tui.transcript_data",
    "hashlib",
    "textual.widgets._markdown",
    "markdown_it",
    "pygments",
    "pathspec",
    "pydantic",
    "httpx",
    "arcan_core.config",
    "arcan_core.protocol",
    "arcan_core.providers",
    "arcan_core.store",
    "arcan_core.agent",
    "arcan_core.tools",
    # Plain `arcan` names no subcommand, so none of their parsers (and modules) is built.
    "arcan_tui.commands.exec_cmd",
    "arcan_tui.commands.sessions_cmd",
    "arcan_tui.commands.shell_cmd",
    "arcan_tui.commands.models_cmd",
)
"""Modules the first frame does without."""

LOADED_ONCE_CONNECTED = (
    "arcan_tui.widgets.transcript",
    "arcan_tui.bridge",
    "textual.widgets._markdown",
    "pydantic",
    "arcan_core.agent",
)
"""Deferred modules that must have loaded by the time the core is connected."""


def run_arcan(tmp_path: Path, *argv: str) -> dict[str, Any]:
    project = tmp_path / "project"
    (project / ".arcan").mkdir(parents=True)
    script = tmp_path / "reply.json"
    script.write_text(json.dumps({"steps": [{"text": "hi"}], "repeat": True}), encoding="utf-8")
    (project / ".arcan" / "config.toml").write_text(
        f'provider = "scripted"\nscript = "{script.as_posix()}"\n', encoding="utf-8"
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver",
    }
    env.pop("ARCAN_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_the_first_frame_loads_neither_the_transcript_stack_nor_the_core(tmp_path: Path) -> None:
    result = run_arcan(tmp_path)
    assert result["code"] == 0
    first, connected = result["first"], result["connected"]
    early = [name for name in DEFERRED if loaded(first, name)]
    assert early == [], f"imported before the first frame: {early}"
    # The probe saw the real thing: the same run loads them once the core is up.
    late = [name for name in LOADED_ONCE_CONNECTED if not loaded(connected, name)]
    assert late == []
    assert loaded(first, "textual.widgets._text_area")  # the prompt itself is in that frame


def test_the_collector_is_off_until_the_first_frame_and_on_after(tmp_path: Path) -> None:
    result = run_arcan(tmp_path)
    assert result["gc_first"] is False
    assert result["gc_connected"] is True
    # What start-up left was frozen rather than walked by the first collection.
    assert result["frozen_connected"] > 10_000


async def test_an_app_run_with_the_collector_on_does_not_freeze(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests and embedders keep their collector as it was: only `arcan` itself turns it off.
    # (Spied rather than counted: objects frozen by earlier code are freed meanwhile, which
    # lowers the freeze count whatever the app does.)
    freezes: list[None] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(None))
    app, core, gate = gated_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        gate.set()
        await wait_until(pilot, lambda: app.core is core)
        assert gc.isenabled()
        assert freezes == []


def gated_app(tmp_path: Path) -> tuple[ArcanApp, ScriptedCore, asyncio.Event]:
    core = ScriptedCore()
    gate = asyncio.Event()

    async def slow_connect(request: ConnectRequest) -> Connection:
        del request
        await gate.wait()
        return Connection(core, provider="scripted", model="demo")

    project = tmp_path / "project"
    project.mkdir()
    options = AppOptions(project_dir=project, history_root=tmp_path / "history")
    return ArcanApp(slow_connect, options), core, gate


async def test_typing_while_the_core_opens_is_kept_and_sent_once_in_order(
    tmp_path: Path,
) -> None:
    app, core, gate = gated_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"first", "enter", *"second", "enter", *"draft")
        await pilot.pause()
        assert "connecting" in screen_text(app)
        assert core.ops == []
        assert app.chat.prompt.text == "draft"
        gate.set()
        await wait_until(pilot, lambda: len(core.ops) >= 2)
        await pilot.pause()
        assert core.ops == [SubmitPrompt(text="first"), SubmitPrompt(text="second")]
        assert app.chat.prompt.text == "draft"  # not sent, not lost
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(core.ops) == 3)
        assert core.ops[2] == SubmitPrompt(text="draft")


async def test_the_deferred_widgets_are_mounted_before_events_are_routed(tmp_path: Path) -> None:
    app, core, gate = gated_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.chat.deferred_mounted.is_set)
        chat = app.chat
        assert chat.transcript.is_attached
        assert chat.sensors.is_attached
        assert chat.approvals.is_attached
        assert chat.menu.is_attached
        order = [widget.id for widget in chat.children]
        assert order == ["main", "approval", "completion", "prompt", "status"]
        assert [widget.id for widget in chat.query_one("#main").children] == [
            "transcript",
            "sensors",
        ]
        gate.set()
        await wait_until(pilot, lambda: app.core is core)


class LoneMenuApp(App[None]):
    """A prompt whose completion menu is not mounted yet, as in arcan's first frame."""

    def __init__(self) -> None:
        super().__init__()
        self.menu = CompletionMenu(id="completion")
        self.prompt = PromptInput(id="prompt", menu=self.menu, completers=(SlashOnly(),))
        self.sent: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.prompt

    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        self.sent.append(event.text)


class SlashOnly:
    """Offers ``/help`` for any ``/`` word."""

    def complete(self, before_cursor: str, *, first_line: bool) -> Any:
        from arcan_tui.completion import Completion  # noqa: PLC0415

        del first_line
        return Completion(0, (("/help", "keys"),)) if before_cursor.startswith("/") else None


async def test_keys_typed_before_the_menu_is_mounted_are_kept_then_complete() -> None:
    app = LoneMenuApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"/he")
        assert app.prompt.text == "/he"
        assert not app.menu.has_class("-open")
        await pilot.press("enter")
        assert app.sent == ["/he"]  # Enter sent it: there was no menu to accept from
        await app.mount(app.menu, before=app.prompt)
        await pilot.press("/")
        assert app.menu.is_open
        await pilot.press("tab")
        assert app.prompt.text == "/help "


class EmptyApp(App[None]):
    """Nothing mounted: the chat screen's transcript before ``_mount_deferred``."""


async def test_items_added_before_the_transcript_is_mounted_appear_once_it_is() -> None:
    from arcan_tui.transcript_data import NoticeItem  # noqa: PLC0415
    from arcan_tui.widgets.transcript import Transcript  # noqa: PLC0415

    app = EmptyApp()
    async with app.run_test(size=SIZE) as pilot:
        transcript = Transcript(id="transcript")
        # What an error reported while the first frame is up does (ChatScreen.say).
        transcript.add(NoticeItem(text="reported early", level="error"))
        await pilot.pause()
        assert transcript.mounted_count == 0
        await app.mount(transcript)
        await wait_until(pilot, lambda: transcript.mounted_count == 1)
        await transcript.flush_now()
        await pilot.pause()
        assert "reported early" in screen_text_of(app)


def screen_text_of(app: App[None]) -> str:
    """The screen as plain text (``tui_support.screen_text`` for any app)."""
    return screen_text(app)  # type: ignore[arg-type]


def test_the_history_is_read_on_the_first_up_not_when_opened(tmp_path: Path) -> None:
    from arcan_tui.history import PromptHistory  # noqa: PLC0415

    history = PromptHistory.for_project(tmp_path / "project", root=tmp_path / "history")
    navigator = history.navigator()  # what the chat screen does before its first frame
    # Written by another arcan in the same project after the prompt was set up.
    PromptHistory.for_project(tmp_path / "project", root=tmp_path / "history").append("later")
    assert navigator.older("draft") == "later"
    assert navigator.newer() == "draft"
    assert history.path.parent == tmp_path / "history"
