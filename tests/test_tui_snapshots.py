"""Snapshot tests of the main screens and states, on syrupy 7 with a small in-house fixture.

Text snapshots (``.ambr``) show layout and wording and diff readably in review; SVG snapshots (one
per theme) pin colours. Update with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and
review the diff. Why not pytest-textual-snapshot: see ARCHITECTURE.md ("TUI snapshot tests").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from syrupy.extensions.image import SVGImageSnapshotExtension

from arcan_core.protocol.events import (
    ApprovalRequest,
    ControllerDecision,
    SensorReading,
    TextDelta,
    ThinkingDelta,
    ToolCallArgumentsDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallStarted,
    ToolDisplay,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import Usage
from arcan_tui.screens.help import HelpScreen
from arcan_tui.screens.sessions import SessionPicker
from tests.test_tui_screens import NOW, write_session
from tests.tui_support import ScriptedCore, make_app, screen_text, settle, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from syrupy.assertion import SnapshotAssertion
    from textual.pilot import Pilot

    from arcan_tui.app import ArcanApp

SIZE = (100, 32)
DIFF = (
    "--- a/app.py\n+++ b/app.py\n@@ -1,3 +1,3 @@\n def greet(name):\n"
    '-    return "Hi " + name\n+    return f"Hello, {name}!"\n'
)


@pytest.fixture(autouse=True)
def _deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.delenv("NO_COLOR", raising=False)


async def ready(app: ArcanApp, pilot: Pilot[None]) -> None:
    await settle(app, pilot)
    app.chat.prompt.cursor_blink = False
    await pilot.pause()


def turn(core: ScriptedCore) -> None:
    """A turn with thinking, a reply, a finished edit and usage."""
    core.emit(
        TurnStarted(turn_id="t1", prompt="Make the greeting friendlier"),
        ThinkingDelta(text="The greeting lives in app.py; a one-line edit will do."),
        TextDelta(text="I'll update `greet` in **app.py**."),
        ToolCallStarted(call_id="e1", name="edit"),
        ToolCallArgumentsDelta(call_id="e1", fragment='{"path": "app.py"}'),
        ToolCallFinished(
            call_id="e1",
            name="edit",
            input={"path": "app.py"},
            result="edited app.py",
            display=ToolDisplay(kind="diff", diff=DIFF),
            duration_s=0.4,
        ),
        UsageUpdated(
            usage=Usage(input_tokens=12_000, output_tokens=300),
            session_usage=Usage(input_tokens=12_000, output_tokens=300),
            session_cost_usd=0.0405,
            context_tokens=12_000,
            context_window=200_000,
        ),
    )


async def test_streaming_reply(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        turn(core)
        core.emit(
            TextDelta(text="Now the tests:\n\n```python\ndef test_greet():\n    assert greet("),
        )
        await ready(app, pilot)
        assert screen_text(app) == snapshot


async def test_approval_pending(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(
            TurnStarted(turn_id="t1", prompt="Clean the build"),
            *(
                ToolCallAwaitingApproval(
                    call_id=f"c{i}",
                    name="bash",
                    input={"command": command},
                    request=ApprovalRequest(
                        tool="bash",
                        summary=command,
                        preview=command,
                        preview_kind="command",
                        cwd="/project",
                        reason="ask mode asks before shell commands",
                    ),
                )
                for i, command in enumerate(("rm -rf build", "make all"))
            ),
        )
        await ready(app, pilot)
        assert screen_text(app) == snapshot


async def test_sensor_panel(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path, sensor_panel=True)
    async with app.run_test(size=SIZE) as pilot:
        turn(core)
        core.emit(
            SensorReading(
                sensor="check:tests", setpoint="failures == 0", status="unmet", value="2 failed"
            ),
            SensorReading(sensor="check:lint", setpoint="exit0", status="met", met=True),
            SensorReading(sensor="check:types", setpoint="exit0", status="running"),
            SensorReading(sensor="meter:turns", setpoint="turns ≤ 30", status="stale"),
            ControllerDecision(mode="recover", rationale="tests fail after the edit"),
        )
        await ready(app, pilot)
        assert screen_text(app) == snapshot


async def test_session_picker(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    project = tmp_path / "project"
    write_session(project, "20261118T120000-aaaaaa", "Refactor the parser", ["refactor"], 48)
    write_session(project, "20261120T100000-bbbbbb", "Fix the login bug", ["fix", "test"], 2)
    app = make_app(ScriptedCore(), tmp_path, project=project)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        app.push_screen(SessionPicker(project, now=NOW))
        await wait_until(
            pilot, lambda: isinstance(app.screen, SessionPicker) and bool(app.screen.sessions)
        )
        await pilot.pause()
        assert screen_text(app) == snapshot


async def test_help(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    app = make_app(ScriptedCore(), tmp_path)
    async with app.run_test(size=(100, 48)) as pilot:
        await ready(app, pilot)
        app.push_screen(HelpScreen())
        await pilot.pause()
        assert screen_text(app) == snapshot


@pytest.mark.parametrize("theme", ["arcan-dark", "arcan-light", "arcan-high-contrast"])
async def test_theme(tmp_path: Path, snapshot: SnapshotAssertion, theme: str) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path, theme=theme, sensor_panel=True)
    async with app.run_test(size=SIZE) as pilot:
        turn(core)
        core.emit(
            SensorReading(sensor="check:tests", setpoint="failures == 0", status="met", met=True)
        )
        await ready(app, pilot)
        assert app.theme == theme
        svg = app.export_screenshot(title=f"arcan {theme} {datetime(2026, 1, 1, tzinfo=UTC):%Y}")
        assert svg == snapshot(extension_class=SVGImageSnapshotExtension)
