"""``arcan shell`` (and ``arcan --plain``): the line-mode front-end.

Only prompt-toolkit and the shell's own small modules load before the first prompt; the
configuration, pydantic and the agent core load in a worker thread while the prompt is on screen.
Textual is never imported.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TextIO

HELP = "line-mode session: a prompt, plain streamed text, inline approvals (no full-screen UI)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--continue`` and ``--resume`` (also accepted before the subcommand)."""
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "-c",
        "--continue",
        dest="continue_",
        action="store_true",
        default=argparse.SUPPRESS,
        help="resume the latest session",
    )
    resume.add_argument(
        "-r", "--resume", metavar="ID", default=argparse.SUPPRESS, help="resume the session ID"
    )


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def terminal_options() -> dict[str, Any]:
    """Where the prompt goes when stdout is not a terminal.

    The transcript always goes to stdout. A redirected stdout gets nothing but text, so the prompt
    and toolbar are drawn on stderr when that is a terminal, and nowhere when it is not.
    """
    if _isatty(sys.stdout):
        return {}
    from prompt_toolkit.output import DummyOutput, create_output  # noqa: PLC0415

    output = create_output(stdout=sys.stderr) if _isatty(sys.stderr) else DummyOutput()
    return {"pt_output": output, "interactive": False}


def run(args: argparse.Namespace) -> int:
    """Run the shell in the project until the user quits."""
    import asyncio  # noqa: PLC0415

    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415 - the cli imports us
    from arcan_tui.shell.host import CoreHost, OpenRequest  # noqa: PLC0415
    from arcan_tui.shell.session import ShellSession  # noqa: PLC0415

    project = project_dir(args)
    request = OpenRequest(
        resume=getattr(args, "resume", None),
        continue_latest=bool(getattr(args, "continue_", False)),
    )
    host = CoreHost(project, config_flags(args))
    shell = ShellSession(host, project_dir=project, request=request, **terminal_options())
    return asyncio.run(shell.run())
