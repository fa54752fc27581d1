"""``arcan shell`` (and ``arcan --plain``): the line-mode front-end.

Only prompt-toolkit and the shell's own small modules load before the first prompt; the
configuration, pydantic and the agent core load in a worker thread while the prompt is on screen.
Textual is never imported.

On a terminal the banner and the prompt mark are painted before prompt-toolkit is even imported
(about 0.1 s of the start-up), with the terminal already in raw mode: keys typed meanwhile wait in
the terminal and land in the prompt as soon as it is live, and Ctrl+C is a key, not a signal.
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


def _paint_early() -> list[Any] | None:
    """Put a terminal in raw mode and draw the banner and prompt mark; return the old mode.

    Returns ``None`` (and draws nothing) unless both stdin and stdout are terminals.
    """
    if not (_isatty(sys.stdin) and _isatty(sys.stdout)):
        return None
    import termios  # noqa: PLC0415
    import tty  # noqa: PLC0415

    from arcan_tui.shell import BANNER  # noqa: PLC0415
    from arcan_tui.shell.style import Palette, colour_enabled  # noqa: PLC0415

    fd = sys.stdin.fileno()
    try:
        saved = termios.tcgetattr(fd)
        # cbreak keeps output processing (\n -> \r\n); echo and signals go off like in raw.
        tty.setcbreak(fd)
        mode = termios.tcgetattr(fd)
        mode[3] &= ~termios.ISIG
        termios.tcsetattr(fd, termios.TCSANOW, mode)
    except termios.error:
        return None
    palette = Palette(colour=colour_enabled(sys.stdout))
    # The prompt-toolkit prompt takes over this line: it renders from column 0 of the cursor row.
    sys.stdout.write(palette.paint(BANNER, "dim") + "\n" + palette.paint(">", "bold") + " \r")
    sys.stdout.flush()
    return saved


def run(args: argparse.Namespace) -> int:
    """Run the shell in the project until the user quits."""
    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415 - the cli imports us

    project = project_dir(args)
    saved = _paint_early()
    try:
        import asyncio  # noqa: PLC0415

        from arcan_tui.shell.host import CoreHost, OpenRequest  # noqa: PLC0415
        from arcan_tui.shell.session import ShellSession  # noqa: PLC0415

        request = OpenRequest(
            resume=getattr(args, "resume", None),
            continue_latest=bool(getattr(args, "continue_", False)),
        )
        host = CoreHost(project, config_flags(args))
        shell = ShellSession(
            host,
            project_dir=project,
            request=request,
            banner=saved is None,
            **terminal_options(),
        )
        return asyncio.run(shell.run())
    finally:
        if saved is not None:
            import termios  # noqa: PLC0415

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
