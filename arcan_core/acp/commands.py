"""Slash commands an editor offers in its prompt box: ``/compact``, ``/undo``, ``/effort``, ….

Each command turns its argument into one core operation and names the events that report its
outcome; the prompt that carried it ends when the first of those (or a warning or an error)
arrives, and that event's line is the answer. Adding a command is one entry in
``SLASH_COMMANDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast, get_args

from acp.helpers import update_available_commands
from acp.schema import AvailableCommand, AvailableCommandInput, UnstructuredCommandInput

from arcan_core.errors import UsageError
from arcan_core.protocol.events import (
    ContextCompacted,
    ErrorEvent,
    FilesRestored,
    HarnessToggled,
    ModelChanged,
    ReasoningChanged,
    Warning,  # noqa: A004 - the protocol's name for the event
)
from arcan_core.protocol.operations import (
    Compact,
    Operation,
    ReasoningEffort,
    SetHarness,
    SetModel,
    SetReasoning,
    Undo,
)

if TYPE_CHECKING:
    from acp.schema import AvailableCommandsUpdate

    from arcan_core.protocol.events import EventMsg

__all__ = ["SLASH_COMMANDS", "SlashCommand", "available_commands", "outcome_line", "parse_command"]


@dataclass(frozen=True)
class SlashCommand:
    """One command: what it is called, what it does, and the operation it becomes."""

    name: str
    description: str
    operation: Callable[[str], Operation]
    """Builds the operation from the text after the name; raises ``UsageError`` on bad input."""
    outcomes: tuple[type[Any], ...]
    """Events that report the operation's result (a warning or an error also ends it)."""
    hint: str | None = None
    """What the argument is, when there is one."""


def _harness(argument: str) -> Operation:
    values = {"on": True, "off": False}
    if argument not in values:
        raise UsageError("say /harness on or /harness off")
    return SetHarness(enabled=values[argument])


def _model(argument: str) -> Operation:
    if not argument:
        raise UsageError("name a model: /model NAME or /model PROVIDER/NAME")
    provider, _, model = argument.rpartition("/")
    return SetModel(model=model, provider=provider or None)


_EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)


def _effort(argument: str) -> Operation:
    level = argument.lower()
    if level not in _EFFORTS:
        raise UsageError(f"say /effort and one of: {', '.join(_EFFORTS)}")
    return SetReasoning(effort=cast("ReasoningEffort", level), reason="/effort")


SLASH_COMMANDS: dict[str, SlashCommand] = {
    command.name: command
    for command in (
        SlashCommand(
            "compact",
            "Summarise older turns now to free context",
            lambda argument: Compact(instructions=argument or None),
            (ContextCompacted,),
            hint="what the summary should keep (optional)",
        ),
        SlashCommand(
            "undo",
            "Restore the files the last task changed",
            lambda _argument: Undo(),
            (FilesRestored,),
        ),
        SlashCommand(
            "harness",
            "Turn the feedback loop (checks until green) on or off",
            _harness,
            (HarnessToggled,),
            hint="on or off",
        ),
        SlashCommand(
            "model",
            "Switch the model for the following requests",
            _model,
            (ModelChanged,),
            hint="NAME or PROVIDER/NAME",
        ),
        SlashCommand(
            "effort",
            "Change how hard the model thinks for the following requests",
            _effort,
            (ReasoningChanged,),
            hint=" | ".join(_EFFORTS),
        ),
    )
}


def available_commands() -> AvailableCommandsUpdate:
    """The ``available_commands_update`` that lists every command."""
    return update_available_commands(
        AvailableCommand(
            name=command.name,
            description=command.description,
            input=AvailableCommandInput(root=UnstructuredCommandInput(hint=command.hint))
            if command.hint
            else None,
        )
        for command in SLASH_COMMANDS.values()
    )


def parse_command(text: str) -> tuple[SlashCommand, str] | None:
    """Return the command a prompt names (``/name argument``) and its argument, if it names one."""
    if not text.startswith("/"):
        return None
    name, _, argument = text[1:].partition(" ")
    command = SLASH_COMMANDS.get(name.strip())
    return None if command is None else (command, argument.strip())


_OUTCOME_LINES: dict[type[Any], Callable[[Any], str]] = {
    ContextCompacted: lambda msg: (
        f"Compacted: {msg.replaced} older messages summarised"
        + (f" ({msg.tokens_before} → {msg.tokens_after} tokens)" if msg.tokens_before else "")
    ),
    FilesRestored: lambda msg: f"Restored {len(msg.paths)} files: {', '.join(msg.paths)}",
    HarnessToggled: lambda msg: f"Harness {'on' if msg.enabled else 'off'}",
    ModelChanged: lambda msg: f"Model: {msg.provider}/{msg.model}",
    ReasoningChanged: lambda msg: (
        f"Effort: {msg.effort}"
        + ("" if msg.applies else " (kept for a model that reasons; this one does not)")
    ),
    Warning: lambda msg: msg.message,
    ErrorEvent: lambda msg: f"{msg.message}" + (f" ({msg.hint})" if msg.hint else ""),
}


def outcome_line(msg: EventMsg) -> str | None:
    """One line for an event that reports a command's outcome, or ``None`` for other events."""
    line = _OUTCOME_LINES.get(type(msg))
    return None if line is None else line(msg)
