"""The tool registry: every tool the model may call, by name, with its compiled validator.

Front-ends and the agent core never branch on tool names: they ask the registry for a tool, its
validator, or the specs a mode offers the model (``plan`` offers only read-only tools).

A tool's validator is compiled the first time one of its calls is checked, not at registration:
the model-facing schema must be built up front (every request carries it), but the validation
schema is a second pydantic JSON-schema pass per tool that a run calling two tools of eleven
would otherwise pay for all of them, on every start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arcan_core.errors import ConfigError
from arcan_core.providers.base import ToolSpec
from arcan_core.tools.base import Tool
from arcan_core.tools.validation import ToolValidator

if TYPE_CHECKING:
    from collections.abc import Iterable

    from arcan_core.protocol.operations import ApprovalMode

__all__ = ["ToolRegistry", "default_registry"]


class ToolRegistry:
    """Tools by name; each tool's schema is built once, its validator compiled on first use."""

    def __init__(self, tools: Iterable[Tool[Any] | type[Tool[Any]]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        self._validators: dict[str, ToolValidator] = {}
        self._specs: dict[str, ToolSpec] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any] | type[Tool[Any]]) -> Tool[Any]:
        """Add a tool (a class is instantiated with no arguments) and return the instance.

        Raises:
            ConfigError: a tool of that name is already registered.
        """
        instance = tool() if isinstance(tool, type) else tool
        if instance.name in self._tools:
            raise ConfigError(
                f"two tools are named {instance.name!r}",
                hint="rename one of them (MCP tools are prefixed with their server's name)",
            )
        # Through the tool's own hooks: a built-in derives both schemas from its input model,
        # an MCP tool returns the schema its server listed.
        self._specs[instance.name] = ToolSpec(
            name=instance.name,
            description=instance.description,
            input_schema=instance.input_schema(),
        )
        self._tools[instance.name] = instance
        if _own_validation_schema(instance):
            # A schema the tool supplies itself (an MCP server's) is checked now, so a broken one
            # still fails at registration; one derived from the input model is always valid.
            self.validator(instance.name)
        return instance

    def get(self, name: str) -> Tool[Any] | None:
        """Return the tool called ``name``, or ``None``."""
        return self._tools.get(name)

    def validator(self, name: str) -> ToolValidator:
        """Return the compiled validator of a registered tool (``KeyError`` when unknown).

        Raises:
            ToolError: the tool's validation schema is not valid JSON Schema (an MCP server's).
        """
        validator = self._validators.get(name)
        if validator is None:
            tool = self._tools[name]
            validator = ToolValidator(name, tool.validation_schema(), tool.input_model)
            self._validators[name] = validator
        return validator

    def names(self) -> tuple[str, ...]:
        """Return the registered names, in registration order."""
        return tuple(self._tools)

    def specs(self, mode: ApprovalMode = "ask") -> tuple[ToolSpec, ...]:
        """Return the specs offered to the model in ``mode`` (plan: read-only tools only)."""
        return tuple(
            self._specs[name]
            for name, tool in self._tools.items()
            if mode != "plan" or tool.read_only
        )

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)


def _own_validation_schema(tool: Tool[Any]) -> bool:
    """Whether ``tool`` overrides the hook that derives its validation schema from its model."""
    hook = type(tool).validation_schema
    return getattr(hook, "__func__", hook) is not _DERIVED_HOOK


_DERIVED_HOOK = Tool.validation_schema.__func__  # type: ignore[attr-defined]


def default_registry() -> ToolRegistry:
    """Return a registry holding every built-in tool (each module loads on its tool's first use).

    See ``builtin.lazy``; without the precomputed description the classes are imported.
    """
    from arcan_core.tools.builtin.lazy import lazy_builtin_tools  # noqa: PLC0415 - import cycle

    lazy = lazy_builtin_tools()
    if lazy is not None:
        return ToolRegistry(lazy)
    from arcan_core.tools.builtin import BUILTIN_TOOLS  # noqa: PLC0415

    return ToolRegistry(BUILTIN_TOOLS)
