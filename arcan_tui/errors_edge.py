"""Turns any exception into one clear line on stderr (plus a hint) and an exit code.

With ``--debug`` or ``ARCAN_DEBUG=1`` the traceback is shown too and written to a file under the
user's state directory, and ``configure_debug_logging`` sends arcan's ``logging`` records there.
Every line that leaves here passes through ``redact``: an error message never shows a secret.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from arcan_core.errors import ArcanError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DEBUG_LOGGERS", "configure_debug_logging", "debug_log_dir", "report"]


def debug_log_dir() -> Path:
    """Return the directory for debug logs (``$XDG_STATE_HOME/arcan/logs`` on Linux)."""
    from platformdirs import user_state_path  # noqa: PLC0415 - only in debug or on errors

    return user_state_path("arcan") / "logs"


def _redact(text: str) -> str:
    from arcan_core.config.secrets import redact  # noqa: PLC0415 - only on the error path

    return redact(text)


DEBUG_LOGGERS = ("arcan", "arcan_core", "arcan_tui")
"""The logger trees debug mode records: modules log under ``__name__`` (``arcan_core.…``,
``arcan_tui.…``) or under a short ``arcan.…`` name (``arcan.providers``, ``arcan.acp``)."""


class _RedactingFormatter(logging.Formatter):
    """A formatter that scrubs secrets from the whole formatted record, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return _redact(super().format(record))


def configure_debug_logging() -> Path | None:
    """Send every arcan log record at DEBUG to a file, secrets scrubbed; return its path.

    Returns ``None`` (and logs nowhere) when the state directory cannot be written.
    """
    try:
        directory = debug_log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"debug-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in DEBUG_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    return path


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
    # One line, whatever the message held (a multi-line provider error, say).
    sys.stderr.write(_redact(" ".join(line.split())) + "\n")
    if hint:
        sys.stderr.write(_redact(f"hint: {' '.join(hint.split())}") + "\n")
    if debug:
        text = _redact("".join(traceback.format_exception(error)))
        sys.stderr.write(text)
        try:
            directory = debug_log_dir()
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"error-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
            path.write_text(text, encoding="utf-8")
            sys.stderr.write(f"traceback saved to {path}\n")
        except OSError as log_error:
            sys.stderr.write(f"could not save the traceback: {log_error}\n")
    return code
