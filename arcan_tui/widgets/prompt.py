"""The prompt: a multi-line input with history, and completion of ``/commands`` and ``@paths``.

Enter sends; Ctrl+J (or Shift+Enter where the terminal reports it) inserts a newline. Up on the
first row and Down on the last walk the project's prompt history. Whatever completers say about the
word before the cursor is offered in ``CompletionMenu`` (an ``OptionList``, which renders lines,
not a widget per row); Tab or Enter accepts, Up/Down move, Escape closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.message import Message
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual import events

    from arcan_tui.completion import Completer, Completion
    from arcan_tui.history import HistoryNavigator

__all__ = ["CompletionMenu", "PromptInput"]


class CompletionMenu(OptionList):
    """The candidates, shown above the prompt while there are any."""

    DEFAULT_CSS = """
    CompletionMenu { height: auto; max-height: 10; display: none; border: none;
                     background: $surface; padding: 0 1; }
    CompletionMenu.-open { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.can_focus = False
        self.completion: Completion | None = None

    @property
    def is_open(self) -> bool:
        """Whether candidates are shown."""
        return self.has_class("-open")

    def show(self, completion: Completion | None) -> None:
        """Show ``completion``'s candidates, or close when there are none."""
        self.completion = completion
        if completion is None or not completion.options:
            self.remove_class("-open")
            self.clear_options()
            return
        self.set_options(
            Option(f"{value}  {help_}" if help_ else value, id=value)
            for value, help_ in completion.options
        )
        self.highlighted = 0
        self.add_class("-open")

    def chosen(self) -> str | None:
        """The highlighted value."""
        option = self.highlighted_option
        return option.id if option is not None else None


class PromptInput(TextArea):
    """Where the user types; posts ``Submitted`` on Enter."""

    DEFAULT_CSS = """
    PromptInput { height: auto; min-height: 3; max-height: 12; border: round $primary 50%; }
    PromptInput:focus { border: round $primary; }
    """

    NEWLINE_KEYS: ClassVar[frozenset[str]] = frozenset({"ctrl+j", "shift+enter"})

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on a non-empty prompt."""

        text: str

    def __init__(
        self,
        *,
        menu: CompletionMenu,
        completers: tuple[Completer, ...] = (),
        history: HistoryNavigator | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id, soft_wrap=True, tab_behavior="focus", show_line_numbers=False)
        # A steady cursor: blinking repaints twice a second, the only work an idle TUI would do.
        self.cursor_blink = False
        self.menu = menu
        self.completers = completers
        self.prompt_history = history
        self._recalling = False
        self.paste_filter: Callable[[str], str | None] | None = None
        """Turns a paste into other text (dropped image files into ``@`` markers), or ``None``."""

    def set_history(self, history: HistoryNavigator) -> None:
        """Use ``history`` for Up/Down from now on."""
        self.prompt_history = history

    def set_text(self, text: str) -> None:
        """Replace the text and put the cursor at its end."""
        self._recalling = True
        self.load_text(text)
        self.move_cursor(self.document.end)

    async def _on_paste(self, event: events.Paste) -> None:
        replacement = self.paste_filter(event.text) if self.paste_filter is not None else None
        if replacement is None:
            return  # TextArea's own handler inserts the text as pasted.
        event.prevent_default()
        result = self.replace(replacement, *self.selection)
        self.move_cursor(result.end_location)

    async def _on_key(self, event: events.Key) -> None:
        handler = self._key_handlers().get(event.key)
        if handler is not None and handler():
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def _key_handlers(self) -> dict[str, Callable[[], bool]]:
        return {
            "enter": self._submit_or_accept,
            "tab": self._accept_completion,
            "up": self._on_up,
            "down": self._on_down,
            "escape": self._close_menu,
            "ctrl+j": self._newline,
            "shift+enter": self._newline,
        }

    def _newline(self) -> bool:
        self.insert("\n")
        return True

    def _submit_or_accept(self) -> bool:
        # A word typed out in full (``/help``) is sent, not completed to itself plus a space.
        if not self._completion_is_typed() and self._accept_completion():
            return True
        if self.menu.is_open:
            self.menu.show(None)
        text = self.text
        if text.strip():
            self.post_message(self.Submitted(text))
            self.clear()
        return True

    def _choice(self) -> tuple[int, str] | None:
        """The open menu's highlighted value and the column its word starts at, if any."""
        completion = self.menu.completion
        value = self.menu.chosen()
        if not self.menu.is_open or completion is None or value is None:
            return None
        return completion.start, value

    def _completion_is_typed(self) -> bool:
        """Whether the highlighted completion is exactly the word before the cursor."""
        choice = self._choice()
        if choice is None:
            return False
        start, value = choice
        row, column = self.cursor_location
        return self.document.get_line(row)[start:column] == value

    def _accept_completion(self) -> bool:
        choice = self._choice()
        if choice is None:
            return False
        start, value = choice
        row, column = self.cursor_location
        self.replace(value + " ", (row, start), (row, column))
        self.menu.show(None)
        return True

    def _on_up(self) -> bool:
        if self.menu.is_open:
            self.menu.action_cursor_up()
            return True
        if self.prompt_history is None or not self.cursor_at_first_line:
            return False
        older = self.prompt_history.older(self.text)
        if older is not None:
            self.set_text(older)
        return True

    def _on_down(self) -> bool:
        if self.menu.is_open:
            self.menu.action_cursor_down()
            return True
        if self.prompt_history is None or not self.cursor_at_last_line:
            return False
        newer = self.prompt_history.newer()
        if newer is not None:
            self.set_text(newer)
        return True

    def _close_menu(self) -> bool:
        if self.menu.is_open:
            self.menu.show(None)
            return True
        return False

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Refresh the completion menu for the word before the cursor."""
        if self._recalling:
            # Text recalled from history is not being typed: offer nothing.
            self._recalling = False
            self.menu.show(None)
            return
        if not self.menu.is_attached:
            # The chat screen mounts the menu just after its first frame; keys typed before
            # that are kept, and the next one offers completions.
            return
        row, column = self.cursor_location
        before = self.document.get_line(row)[:column]
        for completer in self.completers:
            completion = completer.complete(before, first_line=row == 0)
            if completion is not None:
                self.menu.show(completion)
                return
        self.menu.show(None)
