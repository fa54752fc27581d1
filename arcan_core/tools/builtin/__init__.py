"""The built-in tools, one module each; ``BUILTIN_TOOLS`` is what ``default_registry`` offers.

Start-up: nothing here is imported until it is asked for (PEP 562). ``default_registry`` holds a
``lazy.LazyTool`` per built-in, described by ``schemas.json`` (``precompute`` writes it), and a
tool's module loads on its first call; the input models are ``defer_build`` (pydantic builds a
model's validator on the first call of its tool); a module's heavy imports (``httpx``,
``pathspec``) wait for the first call that needs them. ``from arcan_core.tools.builtin import
BUILTIN_TOOLS`` (or any tool class) imports the modules as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arcan_core.tools.base import Tool
    from arcan_core.tools.builtin.bash import BashTool
    from arcan_core.tools.builtin.edit import EditLinesTool, EditTool
    from arcan_core.tools.builtin.patch import PatchTool
    from arcan_core.tools.builtin.read import ReadTool
    from arcan_core.tools.builtin.search import GlobTool, GrepTool
    from arcan_core.tools.builtin.todo import TodoTool
    from arcan_core.tools.builtin.web_fetch import WebFetchTool
    from arcan_core.tools.builtin.write import WriteTool

    BUILTIN_TOOLS: tuple[type[Tool[Any]], ...]

__all__ = [
    "BUILTIN_TOOLS",
    "BashTool",
    "EditLinesTool",
    "EditTool",
    "GlobTool",
    "GrepTool",
    "PatchTool",
    "ReadTool",
    "TodoTool",
    "WebFetchTool",
    "WriteTool",
]

BUILTIN_ORDER: tuple[tuple[str, str], ...] = (
    ("ReadTool", "read"),
    ("GlobTool", "search"),
    ("GrepTool", "search"),
    ("WriteTool", "write"),
    ("EditTool", "edit"),
    ("EditLinesTool", "edit"),
    ("PatchTool", "patch"),
    ("BashTool", "bash"),
    ("TodoTool", "todo"),
    ("WebFetchTool", "web_fetch"),
)
"""Each built-in tool class and its module, in the order the registry offers them."""

_MODULES = dict(BUILTIN_ORDER)


def __getattr__(name: str) -> Any:
    if name == "BUILTIN_TOOLS":
        tools = tuple(__getattr__(class_name) for class_name, _ in BUILTIN_ORDER)
        globals()[name] = tools
        return tools
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
