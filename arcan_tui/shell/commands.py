"""Slash commands: a registry of small command classes, one per name.

A command gets the ``ShellContext`` (what the shell lets commands do: print, send an operation and
wait for the core's answer, list and switch sessions, quit) and the text after its name. Adding a
command is one class plus one line in ``default_registry``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from arcan_core.protocol.operations import Operation
    from arcan_tui.shell.host import SessionInfo
    from arcan_tui.shell.state import ShellState

__all__ = ["CommandRegistry", "ShellContext", "SlashCommand", "default_registry"]

MODES = ("plan", "ask", "auto-edit", "full-auto")
EFFORTS = ("off", "minimal", "low", "medium", "high")


class ShellContext(Protocol):
    """What a slash command may do with the shell."""

    @property
    def state(self) -> ShellState:
        """The toolbar's read model of the session."""

    @property
    def session_id(self) -> str | None:
        """The id of the session in use, once the core is open."""

    @property
    def registry(self) -> CommandRegistry:
        """The commands, for ``/help``."""

    def say(self, text: str = "", *styles: str) -> None:
        """Print a line."""

    async def request(self, op: Operation, until: frozenset[str]) -> None:
        """Send ``op`` and wait for an event whose type is in ``until`` (or an error)."""

    def sessions(self) -> Sequence[SessionInfo]:
        """The project's sessions, newest first."""

    async def switch_session(self, session_id: str) -> None:
        """Close the current core and resume ``session_id``."""

    def quit(self) -> None:
        """Leave the shell after this command."""


class SlashCommand(ABC):
    """One ``/name``: its help line, argument completions, and what it does."""

    name: ClassVar[str]
    summary: ClassVar[str]
    usage: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    choices: ClassVar[tuple[str, ...]] = ()
    """Argument values offered by completion."""

    @abstractmethod
    async def run(self, shell: ShellContext, argument: str) -> None:
        """Do the command; ``argument`` is the stripped text after the name."""


class CommandRegistry:
    """Commands by name (aliases included), in registration order for ``/help``."""

    def __init__(self) -> None:
        self._by_name: dict[str, SlashCommand] = {}
        self._ordered: list[SlashCommand] = []

    def register(self, command: SlashCommand) -> None:
        """Add ``command`` under its name and aliases."""
        self._ordered.append(command)
        for name in (command.name, *command.aliases):
            self._by_name[name] = command

    def get(self, name: str) -> SlashCommand | None:
        """Return the command called ``name`` (without the slash), if any."""
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[SlashCommand]:
        return iter(self._ordered)

    async def dispatch(self, shell: ShellContext, line: str) -> None:
        """Run the command on ``line`` (which starts with ``/``), or say that it is unknown."""
        name, _, argument = line[1:].strip().partition(" ")
        command = self.get(name)
        if command is None:
            shell.say(f"unknown command /{name} — /help lists them", "yellow")
            return
        await command.run(shell, argument.strip())


class HelpCommand(SlashCommand):
    """``/help``."""

    name = "help"
    summary = "list commands and keys"

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Print every command and the keys of the prompt."""
        del argument
        for command in shell.registry:
            usage = f"/{command.name}" + (f" {command.usage}" if command.usage else "")
            shell.say(f"  {usage:<28} {command.summary}")
        shell.say()
        for keys, what in _KEYS:
            shell.say(f"  {keys:<28} {what}")


_KEYS = (
    ("Enter", "send"),
    ("Alt+Enter, or \\ at line end", "new line"),
    ("Ctrl+R", "search history"),
    ("Ctrl+G", "edit the prompt in $EDITOR"),
    ("@path, Tab", "mention a file"),
    ("Ctrl+C", "interrupt the turn; twice at an empty prompt to quit"),
    ("Ctrl+D", "quit at an empty prompt"),
)


class ModelCommand(SlashCommand):
    """``/model``."""

    name = "model"
    summary = "show or switch the model"
    usage = "[PROVIDER] [MODEL]"

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Show the model, or switch to ``MODEL`` (of ``PROVIDER`` when given).

        A lone word that names an installed provider (``/model anthropic``) switches to that
        provider's default model: read as a model name it would ask the current provider for a
        model called "anthropic", which is never what the user meant.
        """
        words = argument.split()
        if not words:
            state = shell.state
            shell.say(f"model: {state.provider}/{state.model}" if state.provider else "model: ?")
            return
        if len(words) > 2:
            shell.say("usage: /model [PROVIDER] [MODEL]", "yellow")
            return
        from arcan_core.protocol.operations import SetModel  # noqa: PLC0415 - loaded with the core
        from arcan_tui.model_choice import model_choice  # noqa: PLC0415

        provider, model = model_choice(words)
        await shell.request(SetModel(model=model, provider=provider), frozenset({"model_changed"}))


class ModeCommand(SlashCommand):
    """``/mode``."""

    name = "mode"
    summary = "show or set the approval mode"
    usage = "[plan|ask|auto-edit|full-auto]"
    choices = MODES

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Show the mode, or set it."""
        if not argument:
            shell.say(f"mode: {shell.state.mode or '?'}")
            return
        if argument not in MODES:
            shell.say(f"unknown mode {argument!r}; choose one of {', '.join(MODES)}", "yellow")
            return
        from arcan_core.protocol.operations import SetMode  # noqa: PLC0415 - loaded with the core

        await shell.request(SetMode(mode=argument), frozenset({"mode_changed"}))


class EffortCommand(SlashCommand):
    """``/effort``."""

    name = "effort"
    summary = "how hard the model thinks, from its next request on"
    usage = "off|minimal|low|medium|high"
    choices = EFFORTS

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Set the reasoning effort."""
        effort = argument.lower()
        if effort not in EFFORTS:
            shell.say(f"usage: /effort {self.usage}", "yellow")
            return
        from arcan_core.protocol.operations import SetReasoning  # noqa: PLC0415

        op = SetReasoning(effort=effort, reason=f"/effort {effort}")
        await shell.request(op, frozenset({"reasoning_changed"}))


class HarnessCommand(SlashCommand):
    """``/harness``."""

    name = "harness"
    summary = "turn the harness loop on or off (no argument: toggle)"
    usage = "[on|off]"
    choices = ("on", "off")

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Switch the harness on, off, or to the opposite of its state."""
        wanted = {"on": True, "off": False, "": not shell.state.harness}.get(argument)
        if wanted is None:
            shell.say("usage: /harness [on|off]", "yellow")
            return
        from arcan_core.protocol.operations import SetHarness  # noqa: PLC0415

        await shell.request(SetHarness(enabled=wanted), frozenset({"harness_toggled"}))


class CompactCommand(SlashCommand):
    """``/compact``."""

    name = "compact"
    summary = "summarise older turns now"
    usage = "[INSTRUCTIONS]"

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Ask the core to compact, steered by the optional instructions."""
        from arcan_core.protocol.operations import Compact  # noqa: PLC0415

        op = Compact(instructions=argument or None)
        await shell.request(op, frozenset({"context_compacted", "warning"}))


class UndoCommand(SlashCommand):
    """``/undo``."""

    name = "undo"
    summary = "restore the files the last turn changed"

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Ask the core to undo the last turn's file changes."""
        del argument
        from arcan_core.protocol.operations import Undo  # noqa: PLC0415

        await shell.request(Undo(), frozenset({"files_restored", "warning"}))


class CostCommand(SlashCommand):
    """``/cost``."""

    name = "cost"
    summary = "tokens and cost of this session"

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Print the session's token counts, cost and context use."""
        del argument
        s = shell.state
        shell.say(f"input tokens   {s.input_tokens:>12,}")
        shell.say(f"output tokens  {s.output_tokens:>12,}")
        shell.say(f"cache read     {s.cache_read_tokens:>12,}")
        shell.say(f"cache write    {s.cache_write_tokens:>12,}")
        shell.say(f"cost           {'$' + format(s.session_cost_usd, '.4f'):>12}")
        percent = s.context_percent
        window = f" of {s.context_window:,} ({percent}%)" if percent is not None else ""
        shell.say(f"context        {s.context_tokens:>12,}{window}")


class SessionsCommand(SlashCommand):
    """``/sessions``."""

    name = "sessions"
    summary = "list this project's sessions"

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Print the sessions, newest first, marking the current one."""
        del argument
        sessions = shell.sessions()
        if not sessions:
            shell.say("no sessions yet")
            return
        for info in sessions:
            mark = "*" if info.id == shell.session_id else " "
            shell.say(f"{mark} {info.describe()}")


class ResumeCommand(SlashCommand):
    """``/resume``."""

    name = "resume"
    summary = "switch to another session (an id or a unique prefix)"
    usage = "ID"

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Resume the session whose id is, or starts with, ``argument``."""
        if not argument:
            shell.say("usage: /resume ID — /sessions lists them", "yellow")
            return
        matches = [info for info in shell.sessions() if info.id.startswith(argument)]
        exact = [info for info in matches if info.id == argument]
        chosen = exact or matches
        if len(chosen) != 1:
            problem = "no session" if not chosen else f"{len(chosen)} sessions"
            shell.say(f"{problem} match {argument!r} — /sessions lists them", "yellow")
            return
        if chosen[0].id == shell.session_id:
            shell.say("already in that session")
            return
        await shell.switch_session(chosen[0].id)


class QuitCommand(SlashCommand):
    """``/quit``."""

    name = "quit"
    summary = "leave (the session is saved)"
    aliases = ("exit",)

    async def run(self, shell: ShellContext, argument: str) -> None:
        """Leave the shell."""
        del argument
        shell.quit()


def default_registry() -> CommandRegistry:
    """Return the registry of the built-in commands."""
    registry = CommandRegistry()
    for command in (
        HelpCommand(),
        ModelCommand(),
        ModeCommand(),
        EffortCommand(),
        HarnessCommand(),
        CompactCommand(),
        UndoCommand(),
        CostCommand(),
        SessionsCommand(),
        ResumeCommand(),
        QuitCommand(),
    ):
        registry.register(command)
    return registry
