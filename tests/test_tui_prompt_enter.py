"""Enter with the completion menu open: complete a partial word, send a whole one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_tui.screens.help import HelpScreen
from tests.test_tui_app import SIZE
from tests.tui_support import ScriptedCore, make_app, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path


async def test_enter_on_a_whole_command_runs_it(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"/help")
        await wait_until(pilot, lambda: app.chat.menu.is_open)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.chat.prompt.text == ""


async def test_enter_on_a_partial_command_completes_it(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("/", "t", "h")
        await wait_until(pilot, lambda: app.chat.menu.is_open)
        await pilot.press("enter")
        await pilot.pause()
        assert app.chat.prompt.text == "/theme "
        assert not isinstance(app.screen, HelpScreen)
