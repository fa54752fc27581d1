"""How the shell gets a core: the ``ShellHost`` seam between the front-end and session storage.

The shell only ever talks to a ``CoreHandle``. Opening one (new, ``--continue``, ``--resume ID``,
``/resume``) and listing the project's sessions are the host's business, so tests can hand the
shell a small in-memory core and the command line hands it the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arcan_core.agent.api import CoreHandle

__all__ = ["OpenRequest", "SessionInfo", "ShellHost"]


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


class ShellHost(Protocol):
    """Opens cores and lists sessions for the shell."""

    async def open(self, request: OpenRequest) -> CoreHandle:
        """Open the core for ``request``; raise an ``ArcanError`` if it cannot be opened."""

    def sessions(self) -> Sequence[SessionInfo]:
        """Return the project's sessions, newest first."""
