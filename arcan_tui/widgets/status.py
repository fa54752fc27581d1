"""The status bar: provider and model, approval mode, context use, tokens and cost, notices."""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.content import Content
from textual.widgets import Static

__all__ = ["StatusBar", "StatusState"]


@dataclass(frozen=True)
class StatusState:
    """Everything the bar shows; the bar re-renders when it changes."""

    provider: str = ""
    model: str = ""
    mode: str = "ask"
    effort: str = ""
    """The reasoning effort set with ``/effort`` (empty: the model's default, not shown)."""
    context_tokens: int = 0
    context_window: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    busy: bool = False
    harness: bool | None = None
    notice: str = ""
    notice_level: str = "warning"
    connecting: bool = False


def _tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


class StatusBar(Static):
    """One line at the bottom; updated from usage, model, mode, retry and error events."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, state: StatusState | None = None, *, id: str | None = None) -> None:  # noqa: A002
        self.state = state or StatusState()
        super().__init__(self._render_state(), id=id, markup=False)

    def set(self, **changes: object) -> None:
        """Change some fields and re-render (only if something changed)."""
        state = replace(self.state, **changes)  # type: ignore[arg-type]
        if state != self.state:
            self.state = state
            self.update(self._render_state())

    def _render_state(self) -> Content:
        state = self.state
        parts: list[tuple[str, str] | str] = []
        if state.connecting:
            parts.append(("connecting… ", "$text-warning"))
        elif state.busy:
            parts.append(("● working ", "$text-accent"))
        model = "/".join(p for p in (state.provider, state.model) if p) or "no model"
        parts.append((model, "bold"))
        parts.append(f"  mode {state.mode}")
        if state.effort:
            parts.append(f"  effort {state.effort}")
        if state.context_window:
            percent = 100 * state.context_tokens / state.context_window
            style = "$text-error" if percent >= 85 else ""
            shown = f"{percent:.1f}" if percent < 10 else f"{percent:.0f}"
            parts.append((f"  ctx {shown}%", style))
        parts.append(
            f"  ↑{_tokens(state.input_tokens)} ↓{_tokens(state.output_tokens)}"
            f"  ${state.cost_usd:.2f}"
        )
        if state.harness is not None:
            parts.append("  harness " + ("on" if state.harness else "off"))
        if state.notice:
            style = "$text-error" if state.notice_level == "error" else "$text-warning"
            parts.append(("  " + state.notice, style))
        return Content.assemble(*parts)
