"""Writes the preferences the TUI remembers (``ui.theme``, ``ui.show_thinking``) in ``config.toml``.

Config loading belongs to ``arcan_core.config``; this module only edits one key, by text, so the
user's comments, ordering and other keys survive. The edited text is parsed again before it is
written, and written atomically; if the edit would not parse, nothing is written.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import TYPE_CHECKING

from arcan_core.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["read_ui_preferences", "remember_theme", "remember_ui", "user_config_file"]

_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")


def user_config_file() -> Path:
    """Return ``$XDG_CONFIG_HOME/arcan/config.toml``."""
    from platformdirs import user_config_path  # noqa: PLC0415

    return user_config_path("arcan") / "config.toml"


def _with_ui_key(text: str, key: str, value: str | bool) -> str:
    # JSON spells strings and booleans as TOML does.
    line = f"{key} = {json.dumps(value)}"
    key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
    lines = text.splitlines()
    start = next(
        (i for i, raw in enumerate(lines) if (m := _TABLE.match(raw)) and m.group(1) == "ui"), None
    )
    if start is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        separator = "\n" if prefix.strip() else ""
        return f"{prefix}{separator}[ui]\n{line}\n"
    end = next(
        (i for i in range(start + 1, len(lines)) if _TABLE.match(lines[i])),
        len(lines),
    )
    for i in range(start + 1, end):
        if key_line.match(lines[i]):
            lines[i] = line
            break
    else:
        lines.insert(start + 1, line)
    return "\n".join(lines) + "\n"


def remember_theme(name: str, path: Path | None = None) -> Path:
    """Set ``ui.theme = name`` in the user config (created if missing); return the file's path.

    Raises:
        ConfigError: the file is not valid TOML, or the edit would make it invalid.
    """
    return remember_ui("theme", name, path)


def remember_ui(key: str, value: str | bool, path: Path | None = None) -> Path:
    """Set ``ui.<key> = value`` in the user config (created if missing); return the file's path.

    Raises:
        ConfigError: the file is not valid TOML, or the edit would make it invalid.
    """
    target = path or user_config_file()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    new_text = _with_ui_key(text, key, value)
    by_hand = f"set it by hand: [ui] {key} = {json.dumps(value)}"
    try:
        parsed = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"could not save ui.{key}: {target} would not be valid TOML ({error})", hint=by_hand
        ) from error
    if parsed.get("ui", {}).get(key) != value:
        raise ConfigError(f"could not save ui.{key} in {target}", hint=by_hand)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    tmp.replace(target)
    return target


def read_ui_preferences(project_dir: Path, user_file: Path | None = None) -> dict[str, object]:
    """Read the ``[ui]`` tables of the user and project config files, cheaply, for the first paint.

    Only TOML parsing, no validation: the full configuration is loaded (and any error in it
    reported) right after the first paint. The project file wins over the user file, as in the
    full loader; an unreadable file contributes nothing here.
    """
    preferences: dict[str, object] = {}
    for path in (user_file or user_config_file(), project_dir / ".arcan" / "config.toml"):
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("ui", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(table, dict):
            preferences.update(
                (key, value)
                for key, value in table.items()
                if key in ("theme", "show_thinking", "sensor_panel")
            )
    return preferences
