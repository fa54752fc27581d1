"""Plain ``arcan``: open the Textual TUI in the project (placeholder until the TUI lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

HELP = "open the interactive TUI"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Plain ``arcan`` takes only the global flags."""
    del parser


def run(args: argparse.Namespace) -> int:
    """Start the TUI."""
    del args
    from arcan_tui.placeholder import PlaceholderApp  # noqa: PLC0415 - Textual loads lazily

    PlaceholderApp().run()
    return 0
