"""A scripted ``CoreHandle`` double for TUI tests: records operations, emits events on demand.

The TUI under test is the real ``ArcanApp``; only the core is replaced. Events given as
``history`` are stamped in the past (a resumed session's log); ``emit`` stamps them now.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from arcan_core.protocol.events import Event, EventMsg
from arcan_core.protocol.operations import Operation, Shutdown
from arcan_tui.app import AppOptions, ArcanApp, Connection, ConnectRequest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable
    from pathlib import Path


class ScriptedCore:
    """A core that does nothing by itself: tests call ``emit`` and read ``ops``."""

    def __init__(self, history: Iterable[EventMsg] = (), session_id: str = "s-test") -> None:
        self._session_id = session_id
        self.ops: list[Operation] = []
        self._queue: asyncio.Queue[tuple[EventMsg, str | None] | None] = asyncio.Queue()
        self._seq = 0
        past = datetime.now(UTC) - timedelta(days=1)
        self.history = [self._envelope(msg, past) for msg in history]
        self.closed = asyncio.Event()
        self.on_submit: Callable[[Operation], None] | None = None

    @property
    def session_id(self) -> str:
        return self._session_id

    def _envelope(self, msg: EventMsg, ts: datetime, parent_call_id: str | None = None) -> Event:
        self._seq += 1
        return Event(
            session_id=self._session_id,
            seq=self._seq,
            ts=ts,
            msg=msg,
            parent_call_id=parent_call_id,
        )

    def emit(self, *msgs: EventMsg) -> None:
        # Stamped when delivered, as a live core would: nothing is emitted before a subscriber.
        for msg in msgs:
            self._queue.put_nowait((msg, None))

    def emit_nested(self, parent_call_id: str, *msgs: EventMsg) -> None:
        """Emit a sub-agent's events, nested under the ``task`` call ``parent_call_id``."""
        for msg in msgs:
            self._queue.put_nowait((msg, parent_call_id))

    def submit(self, op: Operation) -> str:
        self.ops.append(op)
        if self.on_submit is not None:
            self.on_submit(op)
        if isinstance(op, Shutdown):
            self._queue.put_nowait(None)
            self.closed.set()
        return f"sub-{len(self.ops)}"

    async def subscribe(self, *, replay: bool = False) -> AsyncIterator[Event]:
        if replay:
            for event in self.history:
                yield event
        while True:
            queued = await self._queue.get()
            if queued is None:
                return
            msg, parent_call_id = queued
            yield self._envelope(msg, datetime.now(UTC), parent_call_id)

    async def wait_closed(self) -> None:
        await self.closed.wait()


def make_app(
    core: ScriptedCore,
    tmp_path: Path,
    *,
    project: Path | None = None,
    **options: object,
) -> ArcanApp:
    """Build the real app around ``core``, with every user path under ``tmp_path``."""

    async def connect(request: ConnectRequest) -> Connection:
        del request
        return Connection(core)

    project_dir = project or tmp_path / "project"
    project_dir.mkdir(exist_ok=True)
    settings: dict[str, object] = {
        "project_dir": project_dir,
        "user_config": tmp_path / "config" / "config.toml",
        "history_root": tmp_path / "history",
        "provider": "scripted",
        "model": "demo",
        **options,
    }
    return ArcanApp(connect, AppOptions(**settings))  # type: ignore[arg-type]


def screen_text(app: ArcanApp) -> str:
    """Return the screen as plain text, line by line (for readable text snapshots)."""
    import io  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415

    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system=None
    )
    # Textual has no public text export; this is what ``export_screenshot`` renders, as text.
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


async def settle(app: ArcanApp, pilot: object) -> None:
    """Let queued events reach the widgets and flush every pending block render."""
    from textual.pilot import Pilot  # noqa: PLC0415

    assert isinstance(pilot, Pilot)
    # The app connects after its first frame; then the router drains what the core emitted.
    for _ in range(200):
        core = app.core
        if isinstance(core, ScriptedCore) and core._queue.empty():
            break
        await pilot.pause(0.01)
    await pilot.pause()
    await pilot.pause()
    await app.chat.transcript.flush_now()
    await pilot.pause()


async def wait_until(pilot: object, condition: Callable[[], bool], *, rounds: int = 200) -> None:
    """Pause the app until ``condition`` holds (bounded: fails after ``rounds`` short pauses)."""
    from textual.pilot import Pilot  # noqa: PLC0415

    assert isinstance(pilot, Pilot)
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not met in time")
