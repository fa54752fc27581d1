"""The prompt: a prompt-toolkit ``PromptSession`` with arcan's keys, completion and toolbar.

Enter sends; Alt+Enter (or Ctrl+J), or a backslash at the end of the line, starts a new line.
Up/down and Ctrl+R walk the project's history, shared with the TUI (``arcan_tui.history``).
Tab completes slash commands, their arguments and ``@path`` mentions of project files (the walk
honours ``.gitignore``). Ctrl+G opens the prompt in ``$EDITOR``. Ctrl+C clears a non-empty prompt
and, at an empty one, raises ``KeyboardInterrupt`` so the shell can quit on the second press.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion, ThreadedCompleter
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import Condition, has_focus
from prompt_toolkit.history import History
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.styles import Style

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document
    from prompt_toolkit.input import Input
    from prompt_toolkit.key_binding import KeyPressEvent
    from prompt_toolkit.output import Output

    from arcan_tui.history import PromptHistory
    from arcan_tui.shell.commands import CommandRegistry

__all__ = ["SharedHistory", "ShellCompleter", "build_key_bindings", "build_prompt_session"]

PROMPT = "> "
CONTINUATION = ". "


class SharedHistory(History):
    """prompt-toolkit's view of the project's ``PromptHistory`` (the file the TUI uses too)."""

    def __init__(self, history: PromptHistory) -> None:
        super().__init__()
        self._history = history

    def load_history_strings(self) -> Iterable[str]:
        """Yield prompts newest first, as prompt-toolkit expects."""
        return reversed(self._history.entries)

    def store_string(self, string: str) -> None:
        """Append a sent prompt to the shared file."""
        self._history.append(string)


class ShellCompleter(Completer):
    """Completes ``/commands``, their arguments, and ``@path`` mentions.

    Args:
        registry: the slash commands.
        project_dir: the root whose files ``@`` offers.
        refresh_s: how long a scan of the project is reused before the next keystroke rescans.
    """

    def __init__(
        self, registry: CommandRegistry, project_dir: Path, *, refresh_s: float = 15.0
    ) -> None:
        self._registry = registry
        self._root = project_dir
        self._refresh_s = refresh_s
        self._paths: list[str] = []
        self._scanned_at: float | None = None

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        """Yield the completions for the text before the cursor."""
        del complete_event
        before = document.text_before_cursor
        if before.startswith("/") and "\n" not in before:
            yield from self._slash(before)
            return
        word = before.split()[-1] if before and not before[-1].isspace() else ""
        if word.startswith("@"):
            yield from self._mentions(word)

    def _slash(self, before: str) -> Iterator[Completion]:
        name, space, argument = before[1:].partition(" ")
        if not space:
            for command in self._registry:
                if command.name.startswith(name):
                    yield Completion(
                        f"/{command.name}",
                        start_position=-len(before),
                        display_meta=command.summary,
                    )
            return
        found = self._registry.get(name)
        if found is None or " " in argument:
            return
        for choice in found.choices:
            if choice.startswith(argument):
                yield Completion(choice, start_position=-len(argument))

    def _mentions(self, word: str) -> Iterator[Completion]:
        from arcan_tui.path_index import fuzzy_rank  # noqa: PLC0415 - pathspec loads on first @

        for path in fuzzy_rank(word[1:], self._project_paths()):
            yield Completion(f"@{path}", start_position=-len(word), display=path)

    def _project_paths(self) -> list[str]:
        now = time.monotonic()
        if self._scanned_at is None or now - self._scanned_at > self._refresh_s:
            from arcan_tui.path_index import scan_project  # noqa: PLC0415

            self._paths = scan_project(self._root)
            self._scanned_at = now
        return self._paths


def build_key_bindings(*, terminal: bool = True) -> KeyBindings:
    r"""Return arcan's prompt keys (they take precedence over prompt-toolkit's defaults).

    Args:
        terminal: whether input comes from a terminal. From a pipe every line ends in ``\n``
            (Ctrl+J), which must send the line rather than continue it.
    """
    bindings = KeyBindings()
    editing = has_focus(DEFAULT_BUFFER)

    @bindings.add("enter", filter=editing)
    @bindings.add("c-j", filter=editing & Condition(lambda: not terminal))
    def _send(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.apply_completion(state.current_completion)
            return
        document = buffer.document
        if document.text_before_cursor.endswith("\\") and not document.text_after_cursor.strip():
            # A trailing backslash continues the prompt on a new line, as in a shell.
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
            return
        buffer.validate_and_handle()

    @bindings.add("escape", "enter", filter=editing)
    @bindings.add("c-j", filter=editing & Condition(lambda: terminal))
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("c-g", filter=editing)
    def _editor(event: KeyPressEvent) -> None:
        event.current_buffer.open_in_editor(validate_and_handle=False)

    @bindings.add("c-c", filter=editing)
    def _interrupt(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.text:
            buffer.reset()
            return
        event.app.exit(exception=KeyboardInterrupt())

    return bindings


_STYLE = Style.from_dict({"bottom-toolbar": "reverse", "prompt": "bold"})


def build_prompt_session(
    *,
    pt_input: Input | None,
    pt_output: Output | None,
    history: History,
    completer: Completer,
    toolbar: Callable[[], str],
) -> PromptSession[str]:
    """Build the session used for every prompt of the shell."""
    stdin = sys.stdin if pt_input is None else getattr(pt_input, "stdin", None)
    terminal = stdin is None or bool(stdin.isatty())
    return PromptSession(
        message=[("class:prompt", PROMPT)],
        multiline=True,
        prompt_continuation=CONTINUATION,
        history=history,
        completer=ThreadedCompleter(completer),
        complete_while_typing=True,
        key_bindings=build_key_bindings(terminal=terminal),
        bottom_toolbar=toolbar,
        style=_STYLE,
        input=pt_input,
        output=pt_output,
        enable_open_in_editor=False,
        erase_when_done=False,
    )
