"""The built-in tools, one module each; ``BUILTIN_TOOLS`` is what ``default_registry`` holds.

Start-up: the input models are ``defer_build`` (pydantic builds a model's validator on the first
call of its tool) and their JSON schemas come from ``schemas.json`` (``precompute`` writes it), so
registering the tools builds nothing. A module's heavy imports (``httpx``, ``pathspec``) wait for
the first call that needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arcan_core.tools.builtin.bash import BashTool
from arcan_core.tools.builtin.edit import EditLinesTool, EditTool
from arcan_core.tools.builtin.patch import PatchTool
from arcan_core.tools.builtin.read import ReadTool
from arcan_core.tools.builtin.search import GlobTool, GrepTool
from arcan_core.tools.builtin.todo import TodoTool
from arcan_core.tools.builtin.web_fetch import WebFetchTool
from arcan_core.tools.builtin.write import WriteTool

if TYPE_CHECKING:
    from arcan_core.tools.base import Tool

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

BUILTIN_TOOLS: tuple[type[Tool[Any]], ...] = (
    ReadTool,
    GlobTool,
    GrepTool,
    WriteTool,
    EditTool,
    EditLinesTool,
    PatchTool,
    BashTool,
    TodoTool,
    WebFetchTool,
)
