"""The validated, immutable configuration model.

Each table of ``config.toml`` is one section model. Unknown keys are errors (``extra="forbid"``),
so a typo is reported with its file and key instead of being ignored. API keys are not part of this
model: they come from the environment or the user key file (see ``config.secrets``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.protocol.operations import ApprovalMode

__all__ = [
    "ArcanConfig",
    "CheckConfig",
    "HarnessConfig",
    "HookConfig",
    "McpServerConfig",
    "ModelOverride",
    "PermissionsConfig",
    "SandboxConfig",
    "UiConfig",
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckConfig(_Section):
    """One harness check: a command whose result is a setpoint reading."""

    command: str
    target: str = "exit0"
    """``exit0``, or a condition on a parsed count such as ``failures == 0``."""
    timeout_s: float = Field(default=300.0, gt=0)
    watch: tuple[str, ...] = ("**/*",)
    """Globs of the paths whose change makes this check stale."""


class HookConfig(_Section):
    """A command run on a harness event: before a tool, after an edit, at turn end, at stop."""

    event: Literal["before_tool", "after_edit", "turn_end", "stop"]
    command: str
    tools: tuple[str, ...] = ()
    """For ``before_tool``: the tools it applies to (empty: all)."""
    timeout_s: float = Field(default=60.0, gt=0)


class HarnessConfig(_Section):
    """Setpoints of the harness: budgets for one task and the checks that define done."""

    max_turns: int = Field(default=30, ge=1)
    max_cost_usd: float = Field(default=5.0, ge=0)
    max_tokens: int = Field(default=2_000_000, ge=1)
    max_minutes: float = Field(default=60.0, gt=0)
    max_repeats: int = Field(default=3, ge=1)
    recover_after: int = Field(default=3, ge=1)
    """Tool failures or provider errors in a row that put the agent in recover mode."""
    checks: dict[str, CheckConfig] = Field(default_factory=dict)
    hooks: tuple[HookConfig, ...] = ()


class PermissionsConfig(_Section):
    """Allow and deny patterns per tool, such as ``bash(git status*)`` or ``edit(src/**)``."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    extra_roots: tuple[str, ...] = ()
    """Directories outside the workspace that tools may use."""


class SandboxConfig(_Section):
    """The OS sandbox for the shell tool."""

    enabled: bool = True
    network: bool = False


class McpServerConfig(_Section):
    """An MCP server: a stdio command or a streamable-HTTP URL."""

    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    """HTTP headers for a URL server (an ``Authorization`` token, say)."""
    enabled: bool = True
    startup_timeout_s: float = Field(default=30.0, gt=0)
    """How long the server may take to start and list its tools."""
    tool_timeout_s: float = Field(default=300.0, gt=0)
    """How long one tool call may take before the server is restarted."""


class ModelOverride(_Section):
    """Overrides of the model registry's data for one model id."""

    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    input_per_mtok: float | None = Field(default=None, ge=0)
    output_per_mtok: float | None = Field(default=None, ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)
    supports_thinking: bool | None = None
    """Whether the model reasons (takes a reasoning effort or thinking budget)."""


class UiConfig(_Section):
    """Front-end preferences."""

    theme: str = "arcan-dark"
    show_thinking: bool = True
    sensor_panel: bool = True


class ArcanConfig(_Section):
    """The effective configuration, after every layer was applied."""

    provider: str | None = None
    """``None``: not configured; the front-end detects what is available."""
    model: str | None = None
    base_url: str | None = None
    mode: ApprovalMode = "ask"
    max_output_tokens: int | None = Field(default=None, gt=0)
    thinking_budget: int | None = Field(default=None, ge=0)
    reasoning_effort: Literal["off", "minimal", "low", "medium", "high"] | None = None
    """The start value of ``/effort`` (``None``: the model's default, ``thinking_budget`` on)."""
    script: str | None = None
    """Transcript file for the scripted provider."""
    harness: HarnessConfig = HarnessConfig()
    permissions: PermissionsConfig = PermissionsConfig()
    sandbox: SandboxConfig = SandboxConfig()
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    models: dict[str, ModelOverride] = Field(default_factory=dict)
    ui: UiConfig = UiConfig()
