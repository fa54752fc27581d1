"""The command line: ``arcan [flags] [command]``, and the one place errors become messages.

Subcommands live in ``arcan_tui.commands``, one module each, listed in ``COMMANDS``. A command
module defines ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int`` and keeps its heavy
imports inside ``run`` so that ``arcan --version`` and ``arcan exec`` stay fast.

Exit codes: 0 success, 1 the task failed, 2 usage or configuration error, 130 interrupted,
141 the reader of stdout went away (``arcan sessions | head -1``), silently, as if by SIGPIPE.

Start-up: ``arcan --version`` is answered before anything else loads, so this module imports
only what Python has loaded at start anyway (``os``, ``sys``, ``importlib``); ``argparse``,
``pathlib`` and ``typing`` load inside the functions that need them.
"""

from __future__ import annotations

import importlib
import os
import sys

from arcan_core import __version__

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs milliseconds at start
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from pathlib import Path
    from typing import NoReturn, Protocol

    class CommandModule(Protocol):
        """What a module in ``arcan_tui.commands`` provides."""

        HELP: str

        def add_arguments(self, parser: argparse.ArgumentParser) -> None:
            """Add the command's own arguments."""

        def run(self, args: argparse.Namespace) -> int:
            """Run the command and return its exit code."""


__all__ = ["COMMANDS", "build_parser", "config_flags", "main", "project_dir"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


COMMANDS: dict[str, str] = {
    "exec": "arcan_tui.commands.exec_cmd",
    "sessions": "arcan_tui.commands.sessions_cmd",
    "config": "arcan_tui.commands.config_cmd",
    "mcp": "arcan_tui.commands.mcp_cmd",
    "acp": "arcan_tui.commands.acp_cmd",
    "shell": "arcan_tui.commands.shell_cmd",
    "models": "arcan_tui.commands.models_cmd",
    "harness": "arcan_tui.commands.harness_cmd",
}
"""Subcommand name -> module. Later parts of arcan add theirs here."""

DEFAULT_COMMAND = "arcan_tui.commands.tui_cmd"
"""What plain ``arcan`` runs: the TUI."""

MODES = ("plan", "ask", "auto-edit", "full-auto")
EFFORTS = ("off", "minimal", "low", "medium", "high")
"""Reasoning efforts (``reasoning_effort``; ``/effort`` changes it during a session)."""


def _parser(*, prog: str, description: str) -> argparse.ArgumentParser:
    """Return an argparse parser that reports a usage error as one line plus a hint (exit 2)."""
    import argparse  # noqa: PLC0415 - not needed for `arcan --version`

    from arcan_core.errors import UsageError  # noqa: PLC0415

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(message, hint=f"see `{self.prog} --help`")

    return Parser(prog=prog, description=description)


def config_flags(args: argparse.Namespace) -> dict[str, object]:
    """Return the config-layer values of the common flags (``None``: not given)."""
    return {
        "provider": getattr(args, "provider", None),
        "model": getattr(args, "model", None),
        "base_url": getattr(args, "base_url", None),
        "mode": getattr(args, "mode", None),
        "reasoning_effort": getattr(args, "effort", None),
    }


def project_dir(args: argparse.Namespace) -> Path:
    """Return the project directory: ``-C/--cwd`` or the current directory, resolved.

    Raises:
        UsageError: ``--cwd`` names no directory.
    """
    from pathlib import Path  # noqa: PLC0415 - not needed for `arcan --version`

    given = getattr(args, "cwd", None)
    path = Path(given).expanduser() if given else Path.cwd()
    if not path.is_dir():
        from arcan_core.errors import UsageError  # noqa: PLC0415 - only on the error path

        raise UsageError(f"--cwd {given}: not a directory", hint="give an existing directory")
    return path.resolve()


def _load(module_name: str) -> CommandModule:
    module: CommandModule = importlib.import_module(module_name)
    return module


def add_common_flags(parser: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """Add the flags every command shares (provider, model, base URL, cwd, mode, debug).

    A subcommand's parser passes ``defaults=False``: its unset flags then leave the namespace
    alone, so ``arcan --model X sessions`` keeps the ``X`` given before the subcommand.
    """
    import argparse  # noqa: PLC0415 - not needed for `arcan --version`

    unset = None if defaults else argparse.SUPPRESS
    parser.add_argument(
        "--provider", metavar="NAME", default=unset, help="model provider (anthropic, openai, …)"
    )
    parser.add_argument("--model", metavar="NAME", default=unset, help="model name")
    parser.add_argument("--base-url", metavar="URL", default=unset, help="provider endpoint")
    parser.add_argument(
        "-C", "--cwd", metavar="DIR", default=unset, help="project directory (default: here)"
    )
    parser.add_argument("--mode", choices=MODES, default=unset, help="approval mode")
    parser.add_argument("--effort", choices=EFFORTS, default=unset, help="reasoning effort")
    parser.add_argument(
        "--debug", action="store_true", default=unset, help="show tracebacks and log to a file"
    )


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Build the parser with the subcommands ``commands`` (default: every one in ``COMMANDS``).

    Each subcommand loads its module to add its arguments; ``main`` passes only the ones its
    arguments can select (see ``_commands_for``), so ``arcan exec`` does not load the others.
    """
    parser = _parser(
        prog="arcan",
        description="A terminal coding agent that works until your checks read green.",
    )
    parser.add_argument("--version", action="version", version=f"arcan {__version__}")
    add_common_flags(parser)
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "-c", "--continue", dest="continue_", action="store_true", help="resume the latest session"
    )
    resume.add_argument("-r", "--resume", metavar="ID", help="resume the session ID")
    parser.add_argument(
        "--plain", action="store_true", help="use the line-mode front-end (arcan shell)"
    )
    _load(DEFAULT_COMMAND).add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if commands is not None and name not in commands:
            continue
        module = _load(module_name)
        command_parser = sub.add_parser(
            name, help=module.HELP, description=module.HELP, prog=f"arcan {name}"
        )
        add_common_flags(command_parser, defaults=False)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_module=module_name)
    return parser


def _commands_for(arguments: Sequence[str]) -> list[str] | None:
    """Return the subcommands ``arguments`` can select, or ``None`` for all of them.

    A subcommand is chosen by its name as a token of its own, so only the names present can be
    chosen; the others need no parser. With no word but flags (plain ``arcan``, ``arcan -c``: the
    TUI) none is. With a word that names none (a misspelt command, whose error lists the valid
    ones) or with ``-h``/``--help`` (the help lists every command), all are built.
    """
    if "-h" in arguments or "--help" in arguments:
        return None
    if all(argument.startswith("-") for argument in arguments):
        return []
    named = [name for name in COMMANDS if name in arguments]
    return named or None


def _debug_enabled(args: argparse.Namespace | None) -> bool:
    if args is not None and getattr(args, "debug", None):
        return True
    return os.environ.get("ARCAN_DEBUG", "") not in ("", "0", "false", "no")


def main(argv: Sequence[str] | None = None) -> int:
    """Run arcan; return the exit code (the console script exits with it)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # Fast path: nothing but the version needs no parser and no imports.
    if arguments == ["--version"]:
        sys.stdout.write(f"arcan {__version__}\n")
        return EXIT_OK
    args: argparse.Namespace | None = None
    try:
        args = build_parser(_commands_for(arguments)).parse_args(arguments)
        if _debug_enabled(args):
            from arcan_tui.errors_edge import configure_debug_logging  # noqa: PLC0415

            configure_debug_logging()
        module_name = getattr(args, "_module", None)
        if module_name is None and args.plain and "shell" in COMMANDS:
            module_name = COMMANDS["shell"]
        return _load(module_name or DEFAULT_COMMAND).run(args)
    except KeyboardInterrupt:
        sys.stderr.write("arcan: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _stdout_gone()
    except Exception as error:  # noqa: BLE001 - the edge: every error becomes a message
        from arcan_tui.errors_edge import report  # noqa: PLC0415 - only on the error path

        return report(error, debug=_debug_enabled(args))


def _stdout_gone() -> int:
    """The reader of stdout closed it: stop quietly, as ``cat`` does when ``head`` has enough.

    stdout is pointed at /dev/null so that the interpreter's final flush cannot raise again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def entry() -> None:
    """Console-script entry point."""
    code = main()
    try:
        sys.stdout.flush()  # what is still buffered: a closed pipe shows here, not at exit
    except BrokenPipeError:
        code = _stdout_gone()
    sys.exit(code)
