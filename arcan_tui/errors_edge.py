"""Turns any exception into one clear line on stderr (plus a hint) and an exit code.

With ``--debug`` or ``ARCAN_DEBUG=1`` the traceback is shown too and written to a log file under the
user's state directory.
"""

from __future__ import annotations

import sys
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from arcan_core.errors import ArcanError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["debug_log_dir", "report"]


def debug_log_dir() -> Path:
    """Return the directory for debug logs (``$XDG_STATE_HOME/arcan/logs`` on Linux)."""
    from platformdirs import user_state_path  # noqa: PLC0415 - only on the error path

    return user_state_path("arcan") / "logs"


def report(error: BaseException, *, debug: bool) -> int:
    """Print ``error`` for a human and return the exit code it maps to."""
    if isinstance(error, ArcanError):
        line = f"arcan: {error.message}"
        hint = error.hint
        code = error.exit_code
    else:
        line = f"arcan: internal error: {type(error).__name__}: {error}"
        hint = "run again with --debug for the traceback, and report it"
        code = 1
    sys.stderr.write(line + "\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    if debug:
        text = "".join(traceback.format_exception(error))
        sys.stderr.write(text)
        try:
            directory = debug_log_dir()
            directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            path = directory / f"error-{stamp}.log"
            path.write_text(text, encoding="utf-8")
            sys.stderr.write(f"traceback saved to {path}\n")
        except OSError as log_error:
            sys.stderr.write(f"could not save the traceback: {log_error}\n")
    return code
