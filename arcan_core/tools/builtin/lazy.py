"""The built-in tools as the registry first holds them: described, not yet imported.

A registry needs of a tool only what the model is offered (name, description, input schema) and
what the approval policy reads (``read_only``, ``category``, ``rule_name``); ``schemas.json`` holds
all of it for every built-in (``precompute`` writes it, a test holds it to the classes). So
``default_registry`` registers a ``LazyTool`` per built-in, and a tool's module (its input
model, its helpers and their imports) loads on the first call that needs the real tool. Importing
the ten modules at start-up cost every ``arcan exec`` about 6 ms, for tools most runs never call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

from arcan_core.tools.base import Tool
from arcan_core.tools.schema import precomputed, schemas_of, stored_schemas

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

    from arcan_core.tools.base import PreviewKind, ToolCategory, ToolContext, ToolResult
    from arcan_core.tools.schema import SchemaPair

__all__ = ["LazyTool", "lazy_builtin_tools"]


class _RealInputModel:
    """``LazyTool.input_model``: the real tool's input model, loaded on first access."""

    def __get__(self, instance: object, owner: type[LazyTool]) -> type[BaseModel]:
        return owner.real_class().input_model


class LazyTool(Tool[Any]):
    """A built-in tool that imports its module on first use; subclasses name the real class.

    Every method of ``Tool`` is forwarded to one instance of the real class, created (with no
    arguments, as ``ToolRegistry.register`` creates a class it is given) the first time one is
    called; the class attributes are the real class's, copied from ``schemas.json``.
    """

    target: ClassVar[str]
    """The real class, as ``module:QualifiedName``."""
    schema_key: ClassVar[str]
    """The key of the real input model's schemas in ``schemas.json``."""
    # A class-level lazy value where ``Tool`` declares a class: read, it is the real model.
    input_model = _RealInputModel()

    def __init__(self) -> None:
        """Create the stand-in; the real tool is created on first use."""
        self._real: Tool[Any] | None = None

    @classmethod
    def real_class(cls) -> type[Tool[Any]]:
        """Import and return the real tool class."""
        module_name, _, qualname = cls.target.partition(":")
        found: type[Tool[Any]] = getattr(importlib.import_module(module_name), qualname)
        return found

    @property
    def real(self) -> Tool[Any]:
        """The real tool (its module is imported the first time)."""
        if self._real is None:
            self._real = self.real_class()()
        return self._real

    @classmethod
    def schema_pair(cls) -> SchemaPair:
        """Both schemas from ``schemas.json``, without importing the module."""
        return stored_schemas(cls.schema_key) or schemas_of(cls.input_model)

    async def run(self, args: Any, ctx: ToolContext) -> ToolResult:
        """Run the real tool."""
        return await self.real.run(args, ctx)

    def touched_paths(self, args: Any, ctx: ToolContext) -> tuple[Path, ...]:
        """The real tool's paths."""
        return self.real.touched_paths(args, ctx)

    def rule_subjects(self, args: Any, ctx: ToolContext) -> tuple[str, ...]:
        """The real tool's rule subjects."""
        return self.real.rule_subjects(args, ctx)

    def preview(self, args: Any, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """The real tool's preview."""
        return self.real.preview(args, ctx)

    def summary(self, args: Any, ctx: ToolContext) -> str:
        """The real tool's summary."""
        return self.real.summary(args, ctx)

    def __getattr__(self, name: str) -> Any:
        # Anything else a caller reads of a particular tool (``GrepTool.rg``): the real one's.
        if name.startswith("__") or name == "_real":
            raise AttributeError(name)
        return getattr(self.real, name)


def lazy_builtin_tools() -> list[Tool[Any]] | None:
    """Return a ``LazyTool`` per built-in, in ``BUILTIN_TOOLS`` order (``None``: no table)."""
    described = precomputed().get("tools")
    if not isinstance(described, list) or not described:
        return None
    tools: list[Tool[Any]] = []
    for entry in described:
        category: ToolCategory = entry["category"]
        stand_in = type(
            "Lazy" + entry["target"].rpartition(":")[2],
            (LazyTool,),
            {
                "name": entry["name"],
                "description": entry["description"],
                "read_only": entry["read_only"],
                "category": category,
                "rule_name": entry["rule_name"],
                "target": entry["target"],
                "schema_key": entry["schema_key"],
            },
        )
        tools.append(stand_in())
    return tools
