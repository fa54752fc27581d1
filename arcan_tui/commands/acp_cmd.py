"""``arcan acp``: serve arcan to an editor (Zed, Toad, …) over the Agent Client Protocol on stdio.

stdout carries the protocol and nothing else: before serving, file descriptors 1 and 2 are
pointed at a log file and the protocol gets a private duplicate of the real stdout. A stray print,
a warning, or a child process that inherits the descriptors then lands in the log instead of
corrupting the stream or filling a stderr pipe that the editor never reads.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import TextIO

HELP = "serve arcan as an Agent Client Protocol agent over stdio (for Zed, Toad, …)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--log``."""
    parser.add_argument(
        "--log",
        metavar="FILE",
        help="where arcan's own messages go (default: acp.log in the user log directory)",
    )


def _default_log() -> Path:
    from platformdirs import user_log_path  # noqa: PLC0415

    return user_log_path("arcan") / "acp.log"


def _redirect(log_path: Path) -> TextIO:
    """Point fds 1 and 2 at the log; return a text stream on the real stdout for the protocol."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("a", encoding="utf-8", buffering=1)
    protocol_fd = os.dup(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stderr = log
    return os.fdopen(protocol_fd, "w", encoding="utf-8", buffering=1)


def run(args: argparse.Namespace) -> int:
    """Serve until the editor closes the connection."""
    import asyncio  # noqa: PLC0415 - keep `arcan --help` light
    import importlib.util  # noqa: PLC0415
    import logging  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from arcan_tui.cli import config_flags  # noqa: PLC0415 - the cli imports us

    # Checked before stderr moves to the log, so a missing extra is reported where it is seen.
    if importlib.util.find_spec("acp") is None:
        from arcan_core.errors import UsageError  # noqa: PLC0415

        raise UsageError(
            "arcan acp needs the Agent Client Protocol library",
            hint="install arcan with the acp extra: pip install 'arcan[acp]'",
        )
    log_path = Path(args.log).expanduser() if args.log else _default_log()
    protocol_out = _redirect(log_path)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if getattr(args, "debug", None) else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    # The ACP library writes to ``sys.stdout``; from here on that is the protocol's private copy.
    sys.stdout = protocol_out

    from arcan_core.acp import serve  # noqa: PLC0415 - loads the acp library

    asyncio.run(serve(flags=config_flags(args)))
    return 0
