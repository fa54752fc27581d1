"""How the shell gets a core: the ``ShellHost`` seam between the front-end and session storage.

The shell only ever talks to a ``CoreHandle``. Opening one (new, ``--continue``, ``--resume ID``,
``/resume``) and listing the project's sessions are the host's business, so tests can hand the
shell a small in-memory core and the command line hands it the real one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    # A string annotation is enough: dataclasses never evaluate them, and the import is not free.
    from arcan_core.agent.api import CoreHandle  # noqa: TC004
    from arcan_core.config.model import ArcanConfig

__all__ = ["CoreHost", "OpenRequest", "OpenedCore", "SessionInfo", "ShellHost"]


@dataclass(frozen=True)
class OpenRequest:
    """Which session to open: a new one, the latest (``continue_latest``) or ``resume``."""

    resume: str | None = None
    continue_latest: bool = False

    @property
    def replays(self) -> bool:
        """Whether the session may have a past to show."""
        return self.resume is not None or self.continue_latest


@dataclass(frozen=True)
class SessionInfo:
    """One line of ``/sessions``."""

    id: str
    title: str = ""
    updated: datetime | None = None
    turns: int = 0
    model: str = ""

    def describe(self) -> str:
        """Return the session as one line: id, time, turns, model, title."""
        when = self.updated.strftime("%Y-%m-%d %H:%M") if self.updated else "—"
        turns = f"{self.turns} turn{'s' if self.turns != 1 else ''}"
        title = self.title or "(untitled)"
        return f"{self.id}  {when}  {turns:>9}  {self.model or '?'}  {title}"


@dataclass(frozen=True)
class OpenedCore:
    """A core just opened, with what the toolbar shows before any event has said so.

    A new session emits no ``ModelChanged`` or ``ModeChanged``; the host knows the starting values
    from the configuration and the session header. Replayed events override them.
    """

    core: CoreHandle
    provider: str = ""
    model: str = ""
    mode: str = ""
    harness: bool | None = None
    context_window: int = 0
    show_thinking: bool = True


class ShellHost(Protocol):
    """Opens cores and lists sessions for the shell."""

    async def open(self, request: OpenRequest) -> OpenedCore:
        """Open the core for ``request``; raise an ``ArcanError`` if it cannot be opened."""

    def sessions(self) -> Sequence[SessionInfo]:
        """Return the project's sessions, newest first."""


class CoreHost:
    """The real host: the project's configuration, ``open_core`` and the session store.

    The configuration and the agent's modules are loaded in a worker thread on the first
    ``open``, so the shell's first prompt is on screen while they load.

    Args:
        project_dir: the project.
        flags: config values given on the command line (``None`` entries: not given).
    """

    def __init__(self, project_dir: Path, flags: Mapping[str, object]) -> None:
        self._project = project_dir
        self._flags = dict(flags)
        self._config: ArcanConfig | None = None

    def _load_config(self) -> ArcanConfig:
        from arcan_core.agent import session as _agent_session  # noqa: F401, PLC0415 - warm up
        from arcan_core.config import load_config  # noqa: PLC0415

        return load_config(self._project, flags=self._flags).config

    async def open(self, request: OpenRequest) -> OpenedCore:
        """Open a new session, the latest one, or the one named in ``request``."""
        if self._config is None:
            self._config = await asyncio.to_thread(self._load_config)
        config = self._config
        from arcan_core.agent.session import CoreOptions, open_core  # noqa: PLC0415

        resume = request.resume or ("continue" if request.continue_latest else "new")
        core = await open_core(CoreOptions(project_dir=self._project, config=config, resume=resume))
        # The core knows the provider and model actually chosen (a new session's log, which
        # names them too, is only written at its first prompt).
        provider, model, window = core.model.provider, core.model.id, core.model.context_window
        return OpenedCore(
            core=core,
            provider=provider,
            model=model,
            mode=config.mode,
            harness=False,  # a new session starts with it off; a resumed one replays its toggles
            context_window=window,
            show_thinking=config.ui.show_thinking,
        )

    def sessions(self) -> Sequence[SessionInfo]:
        """List the project's sessions from the store's index, newest first."""
        from arcan_core.store import list_sessions  # noqa: PLC0415

        summaries: list[Any] = list_sessions(self._project)
        return [
            SessionInfo(id=s.id, title=s.title, updated=s.updated, turns=s.turns, model=s.model)
            for s in summaries
        ]
