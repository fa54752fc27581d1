"""``arcan config``: the effective configuration, each value with the layer that set it."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from arcan_core.config.builder import ResolvedConfig

HELP = "show the effective configuration and where each value came from"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``."""
    parser.add_argument(
        "--json", action="store_true", help="print JSON: {key: {value, source}} by dotted key"
    )


def _toml_value(value: Any) -> str:
    """Render a value the way TOML would write it (``unset`` for no value)."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items())
        return "{" + (f" {items} " if items else "") + "}"
    return str(value)


def _leaves(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            found += _leaves(value, f"{prefix}{key}.")
        else:
            found.append((f"{prefix}{key}", value))
    return found


def _scrubbed(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` with every string in it redacted, its JSON types kept."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_scrubbed(item, redact) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, redact) for key, item in value.items()}
    return value


def as_json(resolved: ResolvedConfig) -> dict[str, dict[str, Any]]:
    """Return ``{dotted key: {"value": ..., "source": ...}}`` with typed values, secrets redacted.

    Values keep their JSON types (``null`` for unset, numbers, booleans, arrays), so a script
    reads ``mode`` as the string ``ask``, not as the quoted TOML text that the table shows.
    """
    from arcan_core.config.secrets import Redactor  # noqa: PLC0415 - imported by run

    redact = Redactor()
    data = resolved.config.model_dump(mode="json")
    return {
        key: {"value": _scrubbed(value, redact), "source": redact(resolved.source_of(key))}
        for key, value in _leaves(data)
    }


def render(resolved: ResolvedConfig) -> list[tuple[str, str, str]]:
    """Return ``(dotted key, rendered value, source)`` for every value, secrets redacted."""
    from arcan_core.config.secrets import Redactor  # noqa: PLC0415 - imported by run

    redact = Redactor()
    data = resolved.config.model_dump(mode="json")
    return [
        (key, redact(_toml_value(value)), redact(resolved.source_of(key)))
        for key, value in _leaves(data)
    ]


def run(args: argparse.Namespace) -> int:
    """Resolve the configuration for the project and print it."""
    from arcan_core.config import load_config  # noqa: PLC0415 - keep `arcan --help` light
    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415 - the cli imports us

    resolved = load_config(project_dir(args), flags=config_flags(args))
    if args.json:
        sys.stdout.write(json.dumps(as_json(resolved), ensure_ascii=False, indent=2) + "\n")
        return 0
    rows = render(resolved)
    width = max(len(f"{key} = {value}") for key, value, _ in rows)
    for key, value, source in rows:
        sys.stdout.write(f"{f'{key} = {value}':<{width}}  # {source}\n")
    return 0
