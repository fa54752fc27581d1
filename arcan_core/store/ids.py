"""Session ids: sortable by creation time, unique without coordination."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

__all__ = ["SESSION_ID_PATTERN", "is_session_id", "new_session_id"]

SESSION_ID_PATTERN = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")
"""``YYYYMMDDTHHMMSS-xxxxxx``: UTC creation time, then 24 random bits."""


def new_session_id(now: datetime | None = None) -> str:
    """Return a new id; ids sort by creation time (to the second), ties broken at random."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def is_session_id(text: str) -> bool:
    """Return whether ``text`` is a well-formed session id (safe to use in a file name)."""
    return SESSION_ID_PATTERN.match(text) is not None
