"""The sensor panel: each harness setpoint, its latest reading, met or not, running or stale.

It is one ``Static`` re-rendered from a dict of readings, not a widget per sensor, so a busy
harness costs one repaint per reading and nothing per frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from arcan_core.protocol.events import ControllerDecision, SensorReading

__all__ = ["SensorPanel"]

_STATUS_STYLE: dict[str, tuple[str, str]] = {
    "met": ("✓", "$text-success"),
    "unmet": ("✗", "$text-error"),
    "running": ("⟳", "$text-warning"),
    "stale": ("~", "$text-muted"),
    "unknown": ("·", "$text-muted"),
    "error": ("!", "$text-error bold"),
}


class SensorPanel(Static):
    """A side panel listing the latest reading per setpoint and the controller's last decision."""

    DEFAULT_CSS = """
    SensorPanel {
        width: 38; height: 1fr; padding: 0 1; border-left: solid $panel-lighten-1;
        background: $surface;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, markup=False)
        self.readings: dict[str, SensorReading] = {}
        self.decision: ControllerDecision | None = None
        self.update(self._render_panel())

    def record(self, reading: SensorReading) -> None:
        """Keep the newest reading of each sensor and re-render."""
        self.readings[reading.sensor] = reading
        self.update(self._render_panel())

    def decide(self, decision: ControllerDecision) -> None:
        """Show the controller's latest decision."""
        self.decision = decision
        self.update(self._render_panel())

    def _render_panel(self) -> Content:
        parts: list[tuple[str, str] | str] = [("Sensors\n", "bold")]
        if not self.readings:
            parts.append(("no readings yet\n", "$text-muted italic"))
        for reading in sorted(self.readings.values(), key=lambda r: r.sensor):
            icon, style = _STATUS_STYLE[reading.status]
            parts.append((f"{icon} ", style))
            # "check:tests" reads as "tests", with the setpoint it serves beside it.
            parts.append((reading.sensor.partition(":")[2] or reading.sensor, "bold"))
            parts.append((f" ({reading.setpoint})", "$text-muted"))
            parts.append((f"  {reading.status}\n", style))
            detail = reading.value or reading.detail
            if detail:
                parts.append((f"  {' '.join(detail.split())[:60]}\n", "$text-muted"))
        if self.decision is not None:
            parts.append(("\nController: ", "bold"))
            parts.append(self.decision.mode)
            if self.decision.rationale:
                parts.append((f"\n  {self.decision.rationale[:120]}", "$text-muted"))
        return Content.assemble(*parts).rstrip()
