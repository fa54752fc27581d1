"""Persisted records other than events: the session header, and the rule for old versions.

A session log is JSON lines: the first line is a ``SessionHeader``, every later line an ``Event``.
Every record carries ``v``. A reader passes each raw record through ``migrate``: records of an older
version are upgraded step by step by the functions in ``MIGRATIONS``; a record of a newer version is
refused with ``SchemaVersionError`` (it was written by a newer arcan), never guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from arcan_core.errors import SchemaVersionError
from arcan_core.protocol.events import SCHEMA_VERSION

__all__ = ["MIGRATIONS", "SessionHeader", "migrate"]


class SessionHeader(BaseModel):
    """The first line of a session log."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: Literal["header"] = "header"
    v: int = SCHEMA_VERSION
    session_id: str
    arcan_version: str
    created: AwareDatetime
    cwd: str
    provider: str
    model: str
    title: str = ""
    forked_from: str | None = None


Migration = Callable[[dict[str, Any]], dict[str, Any]]

MIGRATIONS: dict[int, Migration] = {}
"""``MIGRATIONS[n]`` turns a version-``n`` record into a version ``n + 1`` record."""


def migrate(record: dict[str, Any]) -> dict[str, Any]:
    """Bring a raw record to ``SCHEMA_VERSION``, or refuse one from the future."""
    version = record.get("v", 1)
    if not isinstance(version, int) or version < 1:
        raise SchemaVersionError(f"record has an invalid schema version {version!r}")
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"record has schema version {version}; this arcan reads up to {SCHEMA_VERSION}",
            hint="upgrade arcan to read this session",
        )
    while version < SCHEMA_VERSION:
        record = MIGRATIONS[version](record)
        version += 1
        record["v"] = version
    return record
