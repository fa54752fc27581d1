"""The help screen: keys and slash commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from arcan_tui.slash import BUILTIN_COMMANDS

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from arcan_tui.slash import CustomCommand

__all__ = ["KEYS", "HelpScreen"]

KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "send the prompt"),
    ("Ctrl+J / Shift+Enter", "new line"),
    ("Up / Down", "prompt history (first / last line)"),
    ("Tab", "accept a completion (/command, @path)"),
    ("Esc", "interrupt the running turn"),
    ("y / a / n", "approve once / always / deny (with a reason)"),
    ("F1", "this help"),
    ("F2", "sensor panel"),
    ("Ctrl+T", "show or hide thinking (remembered)"),
    ("Ctrl+G", "edit the prompt in $EDITOR"),
    ("Ctrl+V", "attach the image on the clipboard"),
    ("PageUp / PageDown", "scroll the transcript; PageUp at the top shows earlier messages"),
    ("Ctrl+PageUp", "show earlier messages"),
    ("Ctrl+End", "follow new output"),
    ("!command", "run a shell command; its output goes with your next prompt"),
    ("@path", "mention a file; an image path attaches the image"),
    ("drop an image file", "attach it (its path pasted alone)"),
    ("Ctrl+Q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    """Keys, then commands; Esc or q closes."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: 80%; border: round $primary; background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "close"),
        Binding("q", "dismiss", "close", show=False),
        Binding("f1", "dismiss", "close", show=False),
    ]

    def __init__(self, custom: dict[str, CustomCommand] | None = None) -> None:
        super().__init__()
        self.custom = custom or {}

    def compose(self) -> ComposeResult:
        """One scrollable text."""
        parts: list[tuple[str, str] | str] = [("Keys\n", "bold $text-primary")]
        parts.extend(
            part for key, what in KEYS for part in ((f"  {key:<22}", "bold"), f"  {what}\n")
        )
        parts.append(("\nCommands\n", "bold $text-primary"))
        for name, command in BUILTIN_COMMANDS.items():
            label = f"/{name} {command.usage}".rstrip()
            parts.extend(((f"  {label:<22}", "bold"), f"  {command.help}\n"))
        if self.custom:
            parts.append(("\nProject commands (.arcan/commands)\n", "bold $text-primary"))
            for name, custom in self.custom.items():
                parts.extend(((f"  /{name:<21}", "bold"), f"  {custom.help}\n"))
        with VerticalScroll():
            yield Static(Content.assemble(*parts), markup=False)

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(result)
