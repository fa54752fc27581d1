"""``/clear`` carries the effort into the new session as a record, so its resume keeps it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from arcan_core.protocol.events import ReasoningChanged
from arcan_core.protocol.operations import Shutdown
from arcan_tui.app import ConnectRequest
from arcan_tui.commands.tui_cmd import connect_core

if TYPE_CHECKING:
    from pathlib import Path


async def test_a_fresh_core_records_the_carried_effort(tmp_path: Path) -> None:
    (tmp_path / ".arcan").mkdir()
    (tmp_path / ".arcan" / "config.toml").write_text('provider = "scripted"\n')
    connection = await connect_core(
        argparse.Namespace(), tmp_path, ConnectRequest(fresh=True, effort="high")
    )
    core = connection.core
    assert core is not None
    events = core.subscribe()  # before the core's task runs the submitted operation
    core.submit(Shutdown())
    changes = [e.msg async for e in events if isinstance(e.msg, ReasoningChanged)]
    await core.wait_closed()
    assert [(c.effort, c.reason) for c in changes] == [("high", "carried over by /clear")]


async def test_a_first_core_records_nothing(tmp_path: Path) -> None:
    (tmp_path / ".arcan").mkdir()
    (tmp_path / ".arcan" / "config.toml").write_text('provider = "scripted"\n')
    connection = await connect_core(argparse.Namespace(), tmp_path, ConnectRequest())
    core = connection.core
    assert core is not None
    events = core.subscribe()
    core.submit(Shutdown())
    changes = [e.msg async for e in events if isinstance(e.msg, ReasoningChanged)]
    await core.wait_closed()
    assert changes == []
