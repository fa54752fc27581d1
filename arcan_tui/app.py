"""The Textual application: connects to a core, runs the chat screen, owns themes and quitting.

``ArcanApp`` takes a ``connect`` coroutine function that returns a ``Connection`` (the real core
from ``arcan_tui.commands.tui_cmd``; a scripted double in tests). It is called after the first
paint, so configuration, the protocol models and the core load while the prompt is already on
screen: operations submitted early are held and sent once the core is ready. One worker reads the
core's events and hands them to the ``EventRouter``; the app holds no agent logic.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from arcan_core.errors import ArcanError
from arcan_tui.theming import (
    DEFAULT_THEME,
    THEME_VARIABLE_DEFAULTS,
    load_themes,
    shipped_themes_dir,
    user_themes_dir,
)
from arcan_tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.screen import Screen

    from arcan_core.agent.api import CoreHandle  # noqa: TC004 - dataclass annotation, not evaluated
    from arcan_core.protocol.operations import Operation
    from arcan_tui.screens.chat import ChatScreen

__all__ = ["AppOptions", "ArcanApp", "ConnectRequest", "Connection"]


@dataclass(frozen=True)
class ConnectRequest:
    """What core to open: a provider override (the demo), a session to resume or fork.

    ``fresh`` asks for a new session whatever ``--continue``/``--resume`` said (``/clear``);
    ``model``, ``mode``, ``harness`` and ``effort`` carry the settings of the conversation it
    replaces (``None``: the configured value).
    """

    provider: str | None = None
    resume: str | None = None
    fork: bool = False
    fresh: bool = False
    model: str | None = None
    mode: str | None = None
    harness: bool | None = None
    effort: str | None = None


@dataclass(frozen=True)
class Connection:
    """What ``connect`` found: a running core and its labels, or that setup is needed first."""

    core: CoreHandle | None
    provider: str = ""
    model: str = ""
    mode: str | None = None
    needs_setup: bool = False
    """No provider is configured or detected: the first-run screen asks what to use."""


@dataclass(frozen=True)
class AppOptions:
    """How the TUI starts."""

    project_dir: Path = field(default_factory=Path.cwd)
    theme: str = DEFAULT_THEME
    show_thinking: bool = True
    sensor_panel: bool = False
    provider: str = ""
    model: str = ""
    mode: str = "ask"
    resume: str | None = None
    user_config: Path | None = None
    """Where ``/theme`` is remembered; ``None`` means the default user config file."""
    theme_dirs: tuple[Path, ...] = ()
    """Extra theme directories (tests); shipped and user themes are always read."""
    history_root: Path | None = None
    """Where prompt history lives; ``None`` means the user state dir."""
    remember_theme: bool = True
    window: int | None = None
    """Transcript items mounted at most; ``None`` uses the default."""


_log = logging.getLogger(__name__)


class ArcanApp(ReportsWorkerErrors, App[None]):
    """arcan's TUI."""

    TITLE = "arcan"
    CSS_PATH = "arcan.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "quit", priority=True),
        Binding("ctrl+d", "quit", "quit", show=False),
    ]
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        connect: Callable[[ConnectRequest], Awaitable[Connection]],
        options: AppOptions | None = None,
    ) -> None:
        super().__init__()
        self.options = options or AppOptions()
        self._connect = connect
        self.core: CoreHandle | None = None
        self._pending_ops: list[Operation] = []
        self._quitting = False
        self.theme_failures: list[str] = []
        self._load_themes()

    # -- themes -------------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Arcan's own CSS variables, so every theme (even Textual's) can be used."""
        return dict(THEME_VARIABLE_DEFAULTS)

    def _load_themes(self) -> None:
        themes, failures = load_themes(
            shipped_themes_dir(), user_themes_dir(), *self.options.theme_dirs
        )
        for theme in themes:
            self.register_theme(theme.to_textual())
        self.theme_failures = failures
        wanted = self.options.theme
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME

    @property
    def arcan_themes(self) -> list[str]:
        """Names of the themes to cycle with ``/theme``: arcan's files first, then Textual's."""
        names = list(self.available_themes)
        own = [n for n in names if n.startswith("arcan-")]
        return own + [n for n in names if n not in own and n != "textual-ansi"]

    # -- screens ------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        """The chat screen."""
        from arcan_tui.screens.chat import ChatScreen  # noqa: PLC0415 - keep startup lean

        return ChatScreen(self.options)

    @property
    def chat(self) -> ChatScreen:
        """The chat screen (always at the bottom of the stack)."""
        from arcan_tui.screens.chat import ChatScreen  # noqa: PLC0415

        screen = self.screen_stack[0]
        if not isinstance(screen, ChatScreen):
            raise TypeError("the chat screen is missing")
        return screen

    def on_mount(self) -> None:
        """Report bad theme files; connect (or ask how to) in the background."""
        if self.theme_failures:
            self.notify(
                "\n".join(self.theme_failures), title="theme files skipped", severity="warning"
            )
        # After the first frame: loading the core blocks the loop for a moment, and the prompt
        # should already be on screen by then.
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        if not gc.isenabled():
            # `arcan` turns the cyclic collector off for start-up (see `tui_cmd.run`). The ~75k
            # objects start-up leaves are nearly all permanent (about 2k are garbage), so they
            # are frozen, not walked: the first collection after enabling took 20-25 ms.
            gc.freeze()
            gc.enable()
        self.start_core(ConnectRequest(resume=self.options.resume))

    def _after_setup(self, provider: str | None) -> None:
        if provider is None:
            self.exit()
            return
        self.start_core(ConnectRequest(provider=provider))

    # -- the core -----------------------------------------------------------------------------

    def start_core(self, request: ConnectRequest) -> None:
        """Open a core for ``request`` and route its events (replacing any current core)."""
        # Detach the old core now, so operations sent from here on wait for the new one.
        previous, self.core = self.core, None
        self.run_worker(
            self._run_core(request, previous),
            group="core",
            exclusive=True,
            name="opening the core",
            exit_on_error=False,
        )

    async def _run_core(self, request: ConnectRequest, previous: CoreHandle | None) -> None:
        chat = self.chat
        chat.set_status(connecting=True)
        if previous is not None:
            await self._close(previous)
        # The transcript is mounted just after the first frame; events are routed only into it.
        await chat.deferred_mounted.wait()
        try:
            connection = await self._connect(request)
        except ArcanError as error:
            if error.exit_code == 2:
                # A usage or configuration error ends arcan as it would before the TUI started.
                hint = f"\nhint: {error.hint}" if error.hint else ""
                self.exit(return_code=2, message=f"arcan: {error.message}{hint}")
                return
            chat.set_status(connecting=False, notice=error.message, notice_level="error")
            chat.say(error.message + (f"\nhint: {error.hint}" if error.hint else ""), "error")
            return
        if connection.needs_setup or connection.core is None:
            from arcan_tui.screens.first_run import FirstRunScreen  # noqa: PLC0415

            chat.set_status(connecting=False)
            self.push_screen(FirstRunScreen(self.options.project_dir), self._after_setup)
            return
        core = connection.core
        if self._quitting:
            # The user quit while the core was opening: close it rather than leave it running.
            await self._close(core)
            return
        self.core = core
        labels = {"provider": connection.provider, "model": connection.model}
        chat.set_status(connecting=False, **{k: v for k, v in labels.items() if v})
        if connection.mode is not None:
            chat.set_status(mode=connection.mode)
        from arcan_tui.bridge import EventRouter  # noqa: PLC0415 - the protocol loads after paint

        router = EventRouter(chat, live_since=datetime.now(UTC))
        chat.router = router
        pending, self._pending_ops = self._pending_ops, []
        events = core.subscribe(replay=True)
        for op in pending:
            core.submit(op)
        # Replayed history arrives in a burst; settle the heap once it is mounted.
        self.set_timer(1.0, self._settle_history)
        async for event in events:
            try:
                router.dispatch(event)
            except Exception as error:  # noqa: BLE001 - the UI boundary: one bad event, not a crash
                self.report_failure(error, f"showing a {type(event.msg).__name__} event")
        if self.core is core:
            self.core = None
            chat.set_status(busy=False, notice="the core has stopped", notice_level="error")

    def report_failure(self, error: BaseException, doing: str) -> None:
        """Show an error from background work as one line and a hint, and keep running.

        An ``ArcanError`` shows its own message and hint. Anything else is a bug: its type and
        message, a hint to rerun with ``--debug``, and (with ``--debug``) the traceback in the
        debug log. ``--debug`` shows as this logger being enabled at DEBUG (``errors_edge``
        configures it); without it nothing is logged, as Python's last-resort handler would
        write the record to stderr, under the TUI.
        """
        from arcan_core.config.secrets import redact  # noqa: PLC0415 - only on the error path

        debug = _log.isEnabledFor(logging.DEBUG)
        if isinstance(error, ArcanError):
            message, hint = error.message, error.hint
        else:
            message = f"internal error while {doing}: {type(error).__name__}: {error}"
            hint = (
                "the traceback is in the debug log; please report it"
                if debug
                else "run again with --debug to log the traceback, and report it"
            )
        if debug:
            _log.error("%s failed", doing, exc_info=error)
        line = redact(" ".join(message.split()))
        chat = self.chat
        chat.set_status(connecting=False, notice=line, notice_level="error")
        text = line + (f"\nhint: {redact(hint)}" if hint else "")
        chat.say(text, "error")
        if self.screen is not chat:
            # A screen over the chat (first run, session picker) would hide the transcript.
            self.notify(text, title="error", severity="error")

    def _settle_history(self) -> None:
        # Widgets hold reference cycles; freezing what exists after the history is mounted keeps
        # the gen-2 collector from pausing the UI every second or two (Textual issue #6381).
        def freeze() -> None:
            gc.collect()
            gc.freeze()

        self.call_after_refresh(freeze)

    def submit(self, op: Operation) -> None:
        """Send an operation to the core, or hold it until the core is connected."""
        if self.core is None:
            self._pending_ops.append(op)
        else:
            self.core.submit(op)

    async def _close(self, core: CoreHandle) -> None:
        from arcan_core.protocol.operations import Shutdown  # noqa: PLC0415

        core.submit(Shutdown())
        try:
            await asyncio.wait_for(core.wait_closed(), timeout=5.0)
        except TimeoutError:
            self.log.warning("the core did not close within 5 s")

    async def action_quit(self) -> None:
        """Shut the core down cleanly (flushing its log), then exit."""
        self._quitting = True
        core, self.core = self.core, None
        if core is not None:
            await self._close(core)
        self.exit()

    def set_terminal_title(self, title: str) -> None:
        """Set the terminal window title (OSC 2); no-op when headless."""
        driver = self._driver
        if driver is not None and not self.is_headless:
            # Textual has no public API for the window title; its own clipboard code writes
            # OSC 52 through the driver in the same way.
            driver.write(f"\x1b]2;{title}\x07")
