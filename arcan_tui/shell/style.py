"""ANSI styling that vanishes when colour is off (``NO_COLOR``, a pipe, ``TERM=dumb``)."""

from __future__ import annotations

import os
from typing import TextIO

__all__ = ["Palette", "colour_enabled"]

_SGR = {
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def colour_enabled(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Say whether ``stream`` should get colour: a terminal, no ``NO_COLOR``, not ``TERM=dumb``."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        # https://no-color.org: any non-empty value disables colour.
        return False
    if env.get("TERM", "") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Palette:
    """Wraps text in SGR codes, or returns it untouched when colour is off."""

    def __init__(self, *, colour: bool) -> None:
        self.colour = colour

    def paint(self, text: str, *styles: str) -> str:
        """Return ``text`` in ``styles`` (names such as ``"bold"``, ``"red"``)."""
        if not self.colour or not styles or not text:
            return text
        codes = ";".join(_SGR[style] for style in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"
