"""Slash commands: a registry of small command objects, plus the user's own from Markdown files.

Each built-in is a ``SlashCommand`` with a name, a one-line help and ``run(context, argument)``;
``BUILTIN_COMMANDS`` lists them. A custom command is a Markdown file ``.arcan/commands/NAME.md``
whose text (``$ARGUMENTS`` replaced by what follows the command) is sent as a prompt. The commands
act only through ``SlashContext``, which the chat screen implements, so they hold no UI code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from arcan_tui.completion import Completion

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.harness.setpoints import Setpoints
    from arcan_core.protocol.operations import ApprovalMode, Operation, ReasoningEffort

__all__ = [
    "BUILTIN_COMMANDS",
    "INIT_PROMPT",
    "CustomCommand",
    "SlashCommand",
    "SlashCompleter",
    "SlashContext",
    "load_custom_commands",
    "parse_slash",
]

INIT_PROMPT = (
    "Draft an AGENTS.md for this project: read the README, the build and test configuration and "
    "the layout, then write AGENTS.md at the project root with: what the project is, how to "
    "build, test and lint it (exact commands), the code layout, and conventions a new "
    "contributor must follow. Keep it under 120 lines. If AGENTS.md exists, improve it."
)


class SlashContext(Protocol):
    """What a slash command may do; the chat screen implements it."""

    @property
    def project_dir(self) -> Path:
        """The project directory."""

    def submit(self, op: Operation) -> None:
        """Send an operation to the core."""

    def send_prompt(self, text: str) -> None:
        """Send ``text`` as if the user typed it."""

    def say(self, text: str, level: Literal["info", "warning", "error"] = "info") -> None:
        """Show a notice in the transcript."""

    def show_help(self) -> None:
        """Open the help screen."""

    def show_sessions(self) -> None:
        """Open the session picker."""

    def show_mcp(self) -> None:
        """List the project's MCP servers, their state and their tools (in the background)."""

    def switch_theme(self, name: str | None) -> None:
        """Switch to theme ``name`` (``None``: the next one) and remember it."""

    def export_markdown(self, path: str | None) -> None:
        """Write the transcript as Markdown."""

    def new_conversation(self) -> None:
        """Start a new session with the same settings; the old one stays for ``/resume``."""

    def cost_summary(self) -> str:
        """Tokens and cost of the session so far."""

    def show_thinking(self, visible: bool | None) -> None:
        """Show (``True``) or hide thinking blocks, or toggle (``None``); remembered."""

    def quit(self) -> None:
        """Leave arcan."""


class SlashCommand(ABC):
    """One ``/name`` command."""

    name: str
    help: str
    usage: str = ""

    @abstractmethod
    def run(self, context: SlashContext, argument: str) -> None:
        """Do the command with the text after its name (may be empty)."""


class HelpCommand(SlashCommand):
    """``/help``."""

    name = "help"
    help = "keys and commands"

    def run(self, context: SlashContext, argument: str) -> None:
        """Open the help screen."""
        context.show_help()


class ClearCommand(SlashCommand):
    """``/clear``."""

    name = "clear"
    help = "new conversation, same settings (/resume goes back)"

    def run(self, context: SlashContext, argument: str) -> None:
        """Start a new conversation; the current one is kept in the log."""
        context.new_conversation()


class CompactCommand(SlashCommand):
    """``/compact``."""

    name = "compact"
    help = "summarise older turns now"
    usage = "[instructions]"

    def run(self, context: SlashContext, argument: str) -> None:
        """Ask the core to compact, with optional instructions."""
        from arcan_core.protocol.operations import Compact  # noqa: PLC0415 - loads after paint

        context.submit(Compact(instructions=argument or None))


class ModelCommand(SlashCommand):
    """``/model``."""

    name = "model"
    help = "switch model (a provider alone: its default model)"
    usage = "[provider:]model"

    def run(self, context: SlashContext, argument: str) -> None:
        """Switch model, and provider when given as ``provider:model`` or ``provider model``."""
        from arcan_core.protocol.operations import SetModel  # noqa: PLC0415
        from arcan_core.providers.registry import provider_names  # noqa: PLC0415
        from arcan_tui.model_choice import model_choice  # noqa: PLC0415

        words = argument.split()
        if len(words) == 1:
            # "provider:model" only when the prefix is a provider: "llama3:8b" is one model name.
            prefix, colon, rest = words[0].partition(":")
            if colon and rest and prefix in provider_names():
                words = [prefix, rest]
        if not 1 <= len(words) <= 2:
            context.say(f"usage: /model {self.usage}", "warning")
            return
        provider, model = model_choice(words)
        context.submit(SetModel(model=model, provider=provider))


class ModeCommand(SlashCommand):
    """``/mode``."""

    name = "mode"
    help = "approval mode: plan, ask, auto-edit, full-auto"
    usage = "MODE"

    def run(self, context: SlashContext, argument: str) -> None:
        """Change the approval mode."""
        from arcan_core.protocol import operations  # noqa: PLC0415

        modes: tuple[ApprovalMode, ...] = get_args(operations.ApprovalMode)
        mode = next((m for m in modes if m == argument), None)
        if mode is None:
            context.say(f"usage: /mode {' | '.join(modes)}", "warning")
            return
        context.submit(operations.SetMode(mode=mode))


class HarnessCommand(SlashCommand):
    """``/harness``."""

    name = "harness"
    help = "show the setpoints, or turn the harness loop on or off"
    usage = "[on [confirm] | off]"

    def run(self, context: SlashContext, argument: str) -> None:
        """Show the setpoints, or toggle the harness.

        Detected setpoints are never used silently: ``/harness on`` shows them and asks for
        ``/harness on confirm`` (or ``arcan harness init`` to save and edit them first).
        """
        from arcan_core.errors import ArcanError  # noqa: PLC0415
        from arcan_core.protocol.operations import SetHarness  # noqa: PLC0415

        words = argument.split()
        if words not in ([], ["on"], ["on", "confirm"], ["off"]):
            context.say(f"usage: /harness {self.usage}", "warning")
            return
        if words == ["off"]:
            context.submit(SetHarness(enabled=False))
            return
        try:
            setpoints = _setpoints(context.project_dir)
        except ArcanError as error:
            context.say(f"{error.message}" + (f" ({error.hint})" if error.hint else ""), "error")
            return
        if not words:
            context.say(setpoints.describe())
            return
        if setpoints.source == "none":
            context.say(setpoints.describe(), "warning")
            return
        if setpoints.source == "detected" and words != ["on", "confirm"]:
            context.say(
                setpoints.describe()
                + "\n\nThese checks were detected, not configured. `/harness on confirm` "
                "starts the loop with them; `arcan harness init` saves them to "
                ".arcan/config.toml to edit.",
                "warning",
            )
            return
        context.submit(SetHarness(enabled=True))


def _setpoints(project_dir: Path) -> Setpoints:
    """The project's effective setpoints (configured, else detected)."""
    from arcan_core.config import load_config  # noqa: PLC0415
    from arcan_core.harness.setpoints import effective_setpoints  # noqa: PLC0415

    config = load_config(project_dir).config
    return effective_setpoints(config.harness, project_dir)


class SessionsCommand(SlashCommand):
    """``/sessions`` (and ``/resume``): the session picker."""

    name = "sessions"
    help = "browse, resume, fork or rewind sessions"

    def run(self, context: SlashContext, argument: str) -> None:
        """Open the picker."""
        context.show_sessions()


class ResumeCommand(SessionsCommand):
    """``/resume``."""

    name = "resume"
    help = "resume another session"


class McpCommand(SlashCommand):
    """``/mcp``."""

    name = "mcp"
    help = "MCP servers, their state and their tools"

    def run(self, context: SlashContext, argument: str) -> None:
        """List the MCP servers."""
        context.show_mcp()


class ThemeCommand(SlashCommand):
    """``/theme``."""

    name = "theme"
    help = "switch theme (remembered)"
    usage = "[name]"

    def run(self, context: SlashContext, argument: str) -> None:
        """Switch to the named theme or the next one."""
        context.switch_theme(argument or None)


class CostCommand(SlashCommand):
    """``/cost``."""

    name = "cost"
    help = "tokens and cost of this session"

    def run(self, context: SlashContext, argument: str) -> None:
        """Show the session's usage."""
        context.say(context.cost_summary())


class ExportCommand(SlashCommand):
    """``/export``."""

    name = "export"
    help = "write the session as Markdown"
    usage = "[path]"

    def run(self, context: SlashContext, argument: str) -> None:
        """Export the transcript."""
        context.export_markdown(argument or None)


class InitCommand(SlashCommand):
    """``/init``."""

    name = "init"
    help = "draft an AGENTS.md for this project"

    def run(self, context: SlashContext, argument: str) -> None:
        """Ask the agent to write AGENTS.md."""
        context.send_prompt(INIT_PROMPT + (f"\n\nAlso: {argument}" if argument else ""))


class UndoCommand(SlashCommand):
    """``/undo``."""

    name = "undo"
    help = "restore the files the last turn changed"

    def run(self, context: SlashContext, argument: str) -> None:
        """Ask the core to undo."""
        from arcan_core.protocol.operations import Undo  # noqa: PLC0415

        context.submit(Undo())


_SWITCH: dict[str, bool | None] = {"": None, "on": True, "show": True, "off": False, "hide": False}
"""The words ``/thinking`` takes: show, hide, or (none) toggle."""


class ThinkingCommand(SlashCommand):
    """``/thinking``."""

    name = "thinking"
    help = "show or hide the model's thinking (remembered)"
    usage = "[on | off]"

    def run(self, context: SlashContext, argument: str) -> None:
        """Show, hide or toggle thinking blocks."""
        word = argument.strip().lower()
        if word not in _SWITCH:
            context.say(f"usage: /thinking {self.usage}", "warning")
            return
        context.show_thinking(_SWITCH[word])


class EffortCommand(SlashCommand):
    """``/effort``."""

    name = "effort"
    help = "reasoning effort: off, minimal, low, medium, high"
    usage = "LEVEL"

    def run(self, context: SlashContext, argument: str) -> None:
        """Ask the core for another reasoning effort."""
        from arcan_core.protocol import operations  # noqa: PLC0415

        efforts: tuple[ReasoningEffort, ...] = get_args(operations.ReasoningEffort)
        effort = next((e for e in efforts if e == argument.strip().lower()), None)
        if effort is None:
            context.say(
                f"usage: /effort {' | '.join(efforts)}\n"
                "Anthropic: a thinking budget (off: no thinking); OpenAI: the reasoning effort "
                "(off: low, the least every reasoning model takes); models that do not reason "
                "ignore it.",
                "warning",
            )
            return
        context.submit(operations.SetReasoning(effort=effort, reason=f"/effort {effort}"))


class QuitCommand(SlashCommand):
    """``/quit``."""

    name = "quit"
    help = "leave arcan"

    def run(self, context: SlashContext, argument: str) -> None:
        """Quit."""
        context.quit()


BUILTIN_COMMANDS: dict[str, SlashCommand] = {
    command.name: command
    for command in (
        HelpCommand(),
        ClearCommand(),
        CompactCommand(),
        ModelCommand(),
        ModeCommand(),
        HarnessCommand(),
        ResumeCommand(),
        SessionsCommand(),
        McpCommand(),
        ThemeCommand(),
        CostCommand(),
        ExportCommand(),
        InitCommand(),
        UndoCommand(),
        ThinkingCommand(),
        EffortCommand(),
        QuitCommand(),
    )
}


class CustomCommand(SlashCommand):
    """A command defined by a Markdown file: its text is the prompt."""

    def __init__(self, name: str, template: str, description: str) -> None:
        self.name = name
        self.template = template
        self.help = description

    def run(self, context: SlashContext, argument: str) -> None:
        """Send the template with ``$ARGUMENTS`` filled in."""
        text = self.template.replace("$ARGUMENTS", argument)
        if argument and "$ARGUMENTS" not in self.template:
            text = f"{text}\n\n{argument}"
        context.send_prompt(text)


def load_custom_commands(project_dir: Path) -> dict[str, CustomCommand]:
    """Read ``.arcan/commands/*.md``; the first non-empty line is the description."""
    directory = project_dir / ".arcan" / "commands"
    commands: dict[str, CustomCommand] = {}
    if not directory.is_dir():
        return commands
    for path in sorted(directory.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        first = next((line.strip("# ").strip() for line in text.splitlines() if line.strip()), "")
        commands[path.stem] = CustomCommand(path.stem, text.strip(), first[:60])
    return commands


def parse_slash(text: str) -> tuple[str, str] | None:
    """Split ``/name rest`` into ``(name, rest)``; ``None`` when ``text`` is not a command."""
    if not text.startswith("/") or text.startswith("//"):
        return None
    name, _, rest = text[1:].partition(" ")
    return (name.strip(), rest.strip()) if name.strip() else None


class SlashCompleter:
    """Completes ``/name`` at the start of the prompt from the built-ins and the custom commands."""

    def __init__(self, custom: dict[str, CustomCommand] | None = None) -> None:
        self.custom = custom or {}

    def entries(self) -> list[tuple[str, str]]:
        """Every command with its help, built-ins first."""
        builtin = [(f"/{name}", command.help) for name, command in BUILTIN_COMMANDS.items()]
        custom = [(f"/{name}", command.help) for name, command in self.custom.items()]
        return builtin + custom

    def complete(self, before_cursor: str, *, first_line: bool) -> Completion | None:
        """Offer commands while the first word of the prompt is being typed."""
        if not first_line or not before_cursor.startswith("/") or " " in before_cursor:
            return None
        options = tuple((v, h) for v, h in self.entries() if v.startswith(before_cursor))
        return Completion(0, options) if options else None
