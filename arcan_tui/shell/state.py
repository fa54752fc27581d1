"""What the toolbar and ``/cost`` show: a small fold over the core's events.

The shell holds no agent state; this is a read model rebuilt from events (replayed ones included),
so it agrees with the core after ``--continue`` as well as live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from arcan_core.protocol.events import EventMsg

__all__ = ["ShellState"]


@dataclass
class ShellState:
    """The session as the shell sees it."""

    provider: str = ""
    model: str = ""
    mode: str = ""
    harness: bool | None = None
    context_tokens: int = 0
    context_window: int = 0
    session_cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    turn_running: bool = False
    turns: int = 0
    ready: bool = False

    def seed(
        self,
        *,
        provider: str = "",
        model: str = "",
        mode: str = "",
        harness: bool | None = None,
        context_window: int = 0,
    ) -> None:
        """Set the starting values a new core reports through its host, and mark it ready."""
        self.provider, self.model, self.mode = provider, model, mode
        self.harness, self.context_window = harness, context_window
        self.ready = True

    def apply(self, msg: EventMsg) -> None:
        """Fold one event payload into the state (unknown types change nothing)."""
        handler = _HANDLERS.get(msg.type)
        if handler is not None:
            handler(self, msg)

    @property
    def context_percent(self) -> int | None:
        """Context used as a percentage of the window, when the window is known."""
        if self.context_window <= 0:
            return None
        return round(100 * self.context_tokens / self.context_window)

    def toolbar(self) -> str:
        """The bottom toolbar: model, mode, context used, cost and harness state."""
        if not self.ready:
            return " starting… "
        model = f"{self.provider}/{self.model}" if self.provider else self.model or "?"
        percent = self.context_percent
        context = f"ctx {percent}%" if percent is not None else f"ctx {self.context_tokens:,} tok"
        harness = {None: "harness ?", True: "harness on", False: "harness off"}[self.harness]
        busy = " · working" if self.turn_running else ""
        mode = self.mode or "?"
        return f" {model} · {mode} · {context} · ${self.session_cost_usd:.2f} · {harness}{busy} "


def _usage(state: ShellState, msg: Any) -> None:
    usage = msg.session_usage
    state.input_tokens = usage.input_tokens
    state.output_tokens = usage.output_tokens
    state.cache_read_tokens = usage.cache_read_tokens
    state.cache_write_tokens = usage.cache_write_tokens
    state.session_cost_usd = msg.session_cost_usd
    if msg.context_tokens:
        state.context_tokens = msg.context_tokens
    if msg.context_window:
        state.context_window = msg.context_window


def _model(state: ShellState, msg: Any) -> None:
    state.provider = msg.provider
    state.model = msg.model


def _mode(state: ShellState, msg: Any) -> None:
    state.mode = msg.mode


def _harness(state: ShellState, msg: Any) -> None:
    state.harness = msg.enabled


def _turn_started(state: ShellState, msg: Any) -> None:
    del msg
    state.turn_running = True
    state.turns += 1


def _turn_finished(state: ShellState, msg: Any) -> None:
    del msg
    state.turn_running = False


def _compacted(state: ShellState, msg: Any) -> None:
    if msg.tokens_after:
        state.context_tokens = msg.tokens_after


_HANDLERS: dict[str, Callable[[ShellState, Any], None]] = {
    "usage_updated": _usage,
    "model_changed": _model,
    "mode_changed": _mode,
    "harness_toggled": _harness,
    "turn_started": _turn_started,
    "turn_finished": _turn_finished,
    "context_compacted": _compacted,
}
"""Event type -> fold step. Keyed by the wire's discriminator so no protocol import is needed."""
