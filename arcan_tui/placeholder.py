"""A placeholder screen that starts and quits cleanly, until the real TUI lands."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static


class PlaceholderApp(App[None]):
    """Shows arcan's name and quits on ``q`` or Ctrl+C."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        """Lay out the screen."""
        yield Static("arcan — the TUI is under construction. Use `arcan exec`.")
        yield Footer()
