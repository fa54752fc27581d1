"""The session picker: the project's sessions, newest first; filter, resume, fork, rewind.

Rows come from ``arcan_core.store.index.list_sessions`` (sidecar summaries, no log parsing). The
prompts of each session, for filtering by what was asked, are read in a worker thread by picking
only the ``turn_started`` lines of each log. Typing filters; Enter resumes; Ctrl+F forks; Ctrl+R
lists the session's turns, and Enter on a turn rewinds to just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from arcan_core.errors import StoreError
from arcan_core.protocol.events import TurnStarted
from arcan_tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from pathlib import Path

    from textual.app import ComposeResult

    from arcan_core.store.index import SessionSummary

__all__ = ["PickedSession", "SessionPicker", "ago", "read_prompts"]

_TURN_MARK = b'"type":"turn_started"'
MAX_PROMPT_SCAN = 200
"""Sessions whose prompts are read for filtering (the newest ones)."""


@dataclass(frozen=True)
class PickedSession:
    """What the user chose."""

    session_id: str
    fork: bool = False
    rewind_turn: str | None = None


def ago(when: datetime, now: datetime) -> str:
    """Say how long ago ``when`` was, coarsely."""
    seconds = max(0, int((now - when).total_seconds()))
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def read_prompts(log: Path) -> list[TurnStarted]:
    """Return the ``TurnStarted`` records of a session log (a cut or bad line is skipped)."""
    from arcan_core.store.reader import UnreadableRecordError, parse_event_line  # noqa: PLC0415

    turns: list[TurnStarted] = []
    try:
        data = log.read_bytes()
    except OSError:
        return turns
    for line in data.split(b"\n"):
        if _TURN_MARK not in line:
            continue
        try:
            event = parse_event_line(line)
        except (UnreadableRecordError, StoreError):
            continue
        if isinstance(event.msg, TurnStarted):
            turns.append(event.msg)
    return turns


class SessionPicker(ReportsWorkerErrors, ModalScreen[PickedSession | None]):
    """Pick a session of this project."""

    DEFAULT_CSS = """
    SessionPicker { align: center middle; }
    SessionPicker > Vertical {
        width: 100; max-width: 95%; height: 80%; border: round $primary; background: $surface;
    }
    SessionPicker #picker-hint { color: $text-muted; padding: 0 1; }
    SessionPicker OptionList { height: 1fr; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        Binding("enter", "choose", "resume", priority=True),
        Binding("ctrl+f", "fork", "fork"),
        Binding("ctrl+r", "rewind", "rewind"),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("down", "move(1)", show=False, priority=True),
    ]

    HINT: ClassVar[str] = "type to filter · Enter resume · Ctrl+F fork · Ctrl+R rewind · Esc close"

    def __init__(self, project_dir: Path, *, now: datetime | None = None) -> None:
        super().__init__()
        self.project_dir = project_dir
        self.now = now
        self.sessions: list[SessionSummary] = []
        self.prompts: dict[str, list[TurnStarted]] = {}
        self.turns_of: str | None = None
        """Session whose turns are listed (rewind mode), else ``None``."""
        self._filter = Input(placeholder="filter by title or prompt", id="picker-filter")
        self._list = OptionList(id="picker-list")
        self._hint = Static(self.HINT, id="picker-hint", markup=False)

    def compose(self) -> ComposeResult:
        """Filter, list, hint."""
        with Vertical():
            yield self._filter
            yield self._list
            yield self._hint

    def on_mount(self) -> None:
        """List sessions off the UI thread."""
        self._list.set_options([Option("loading…", disabled=True)])
        self.run_worker(
            self._load,
            thread=True,
            exclusive=True,
            group="picker",
            name="listing sessions",
            exit_on_error=False,
        )

    def _load(self) -> None:
        from arcan_core.store.index import list_sessions  # noqa: PLC0415
        from arcan_core.store.layout import ProjectPaths  # noqa: PLC0415

        sessions = list_sessions(self.project_dir)
        self.app.call_from_thread(self._show_sessions, sessions)
        paths = ProjectPaths(self.project_dir)
        prompts = {s.id: read_prompts(paths.session_log(s.id)) for s in sessions[:MAX_PROMPT_SCAN]}
        self.app.call_from_thread(self._set_prompts, prompts)

    def _show_sessions(self, sessions: list[SessionSummary]) -> None:
        self.sessions = sessions
        self._refresh_list()

    def _set_prompts(self, prompts: dict[str, list[TurnStarted]]) -> None:
        self.prompts = prompts
        if self._filter.value:
            self._refresh_list()

    def _matches(self, session: SessionSummary, needle: str) -> bool:
        if not needle:
            return True
        if needle in session.title.lower():
            return True
        return any(needle in turn.prompt.lower() for turn in self.prompts.get(session.id, ()))

    def _refresh_list(self) -> None:
        needle = self._filter.value.strip().lower()
        if self.turns_of is not None:
            turns = self.prompts.get(self.turns_of, [])
            self._list.set_options(
                Option(f"{i + 1:>3}. {' '.join(t.prompt.split())[:90]}", id=t.turn_id)
                for i, t in enumerate(turns)
                if needle in t.prompt.lower()
            )
        else:
            now = self.now or datetime.now(UTC)
            rows = [
                Option(
                    f"{(s.title or '(untitled)')[:48]:<48}  {ago(s.updated, now):>10}  "
                    f"{s.turns:>3} turns  {s.model[:20]}",
                    id=s.id,
                )
                for s in self.sessions
                if self._matches(s, needle)
            ]
            self._list.set_options(rows or [Option("no sessions", disabled=True)])
        if self._list.option_count:
            self._list.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        event.stop()
        self._refresh_list()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click or Enter on a row chooses it."""
        event.stop()
        self.action_choose()

    def _highlighted_id(self) -> str | None:
        option = self._list.highlighted_option
        return None if option is None or option.disabled else option.id

    def action_move(self, step: int) -> None:
        """Move the highlight while the filter keeps focus."""
        if step < 0:
            self._list.action_cursor_up()
        else:
            self._list.action_cursor_down()

    def action_choose(self) -> None:
        """Resume the session, or rewind to the chosen turn."""
        chosen = self._highlighted_id()
        if chosen is None:
            return
        if self.turns_of is not None:
            self.dismiss(PickedSession(self.turns_of, rewind_turn=chosen))
        else:
            self.dismiss(PickedSession(chosen))

    def action_fork(self) -> None:
        """Start a new session from a copy of the chosen one."""
        chosen = self._highlighted_id()
        if chosen is not None and self.turns_of is None:
            self.dismiss(PickedSession(chosen, fork=True))

    def action_rewind(self) -> None:
        """List the chosen session's turns to rewind to."""
        chosen = self._highlighted_id()
        if chosen is None or self.turns_of is not None:
            return
        self.turns_of = chosen
        self._filter.value = ""
        self._hint.update("Enter rewinds to before the chosen prompt · Esc back")
        self._refresh_list()

    def action_back(self) -> None:
        """Leave rewind mode, or close."""
        if self.turns_of is not None:
            self.turns_of = None
            self._hint.update(self.HINT)
            self._refresh_list()
            return
        self.dismiss(None)
