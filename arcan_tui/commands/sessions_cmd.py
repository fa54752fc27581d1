"""``arcan sessions``: this project's sessions, newest first."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from arcan_core.store.index import SessionSummary

HELP = "list this project's sessions, newest first"

_TITLE_WIDTH = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``."""
    parser.add_argument("--json", action="store_true", help="print JSON (one array of objects)")


def _row(summary: SessionSummary) -> tuple[str, ...]:
    updated = summary.updated.astimezone().strftime("%Y-%m-%d %H:%M")
    title = summary.title or "(untitled)"
    if len(title) > _TITLE_WIDTH:
        title = title[: _TITLE_WIDTH - 1] + "…"
    return (summary.id, updated, str(summary.turns), summary.model, title)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    numeric = {2}  # right-align the turn count
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON) of the project's sessions."""
    from arcan_core.store.index import list_sessions  # noqa: PLC0415 - keep `arcan --help` light
    from arcan_tui.cli import project_dir  # noqa: PLC0415 - the cli imports this module

    sessions = list_sessions(project_dir(args))
    if args.json:
        payload = [summary.to_json() for summary in sessions]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return 0
    if not sessions:
        sys.stderr.write("no sessions in this project yet; `arcan` starts one\n")
        return 0
    header = ("ID", "UPDATED", "TURNS", "MODEL", "TITLE")
    sys.stdout.write(_table([header, *(_row(summary) for summary in sessions)]))
    return 0
