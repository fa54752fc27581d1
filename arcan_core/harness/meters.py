"""Meters: what a task has spent and how it is going, as pure values folded from events.

Tokens, cost, turns, tool calls and wall time are measured against the budgets of ``[harness]``;
context pressure is the tokens in context over the model's window, with hysteresis (compaction is
wanted from ``COMPACT_ENTER`` of the window and until the pressure falls under
``COMPACT_RELEASE``, so it never flaps); the error streak counts tool failures and provider errors
in a row; progress records the failing checks and failure counts at each turn's end.

Wall time enters as a ``meter:time`` reading (the driver measures it and emits the reading), never
from the clock inside the fold, so replaying a log gives the same meters. ``meter_readings``
turns them into ``SensorReading`` events for every front-end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from arcan_core.protocol.events import SensorReading

if TYPE_CHECKING:
    from arcan_core.config.model import HarnessConfig

__all__ = [
    "COMPACT_ENTER",
    "COMPACT_RELEASE",
    "NEARLY_SPENT",
    "ContextGauge",
    "Meters",
    "ProgressPoint",
    "budget_use",
    "meter_readings",
    "time_reading",
]

COMPACT_ENTER: Final = 0.85
"""Context pressure at which compaction is wanted."""
COMPACT_RELEASE: Final = 0.60
"""Context pressure under which the want is released."""
NEARLY_SPENT: Final = 0.8
"""Fraction of a budget from which the controller tightens (caps output, asks to wrap up)."""


@dataclass(frozen=True, slots=True)
class ContextGauge:
    """Context pressure with hysteresis: ``high`` turns on at ENTER and off under RELEASE."""

    tokens: int = 0
    window: int = 0
    high: bool = False

    @property
    def pressure(self) -> float:
        """Tokens in context over the window (0 when the window is unknown)."""
        return self.tokens / self.window if self.window > 0 else 0.0

    def update(self, tokens: int, window: int) -> ContextGauge:
        """Return the gauge after a new measurement (a zero window keeps the last known one)."""
        window = window if window > 0 else self.window
        pressure = tokens / window if window > 0 else 0.0
        high = self.high
        if not high and pressure >= COMPACT_ENTER:
            high = True
        elif high and pressure < COMPACT_RELEASE:
            high = False
        return ContextGauge(tokens=tokens, window=window, high=high)


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """The checks' state at the end of one turn."""

    turn: int
    failing_checks: int
    failures: int


@dataclass(frozen=True, slots=True)
class Meters:
    """Spend and health of the current task."""

    turns: int = 0
    tool_calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    """Wall time of the task, as the last ``meter:time`` reading measured it."""
    context: ContextGauge = ContextGauge()
    error_streak: int = 0
    progress: tuple[ProgressPoint, ...] = ()

    @property
    def minutes(self) -> float:
        """Wall time of the task so far, in minutes."""
        return self.elapsed_s / 60.0


def budget_use(meters: Meters, harness: HarnessConfig) -> dict[str, float]:
    """Return each budget's used fraction: ``turns``, ``cost``, ``tokens``, ``minutes``."""
    cost = meters.cost_usd / harness.max_cost_usd if harness.max_cost_usd > 0 else 0.0
    return {
        "turns": meters.turns / harness.max_turns,
        "cost": cost,
        "tokens": meters.tokens / harness.max_tokens,
        "minutes": meters.minutes / harness.max_minutes,
    }


def _budget(name: str, value: str, setpoint: str, used: float) -> SensorReading:
    met = used < 1.0
    return SensorReading(
        sensor=f"meter:{name}",
        setpoint=setpoint,
        status="met" if met else "unmet",
        met=met,
        value=value,
        detail="" if used < NEARLY_SPENT else f"{used:.0%} of the budget used",
    )


def time_reading(elapsed_s: float, harness: HarnessConfig) -> SensorReading:
    """The wall-time reading the driver emits before each decision (the fold reads it back)."""
    used = elapsed_s / 60.0 / harness.max_minutes
    reading = _budget("time", f"{elapsed_s / 60.0:.1f} min", f"≤ {harness.max_minutes:g} min", used)
    return reading.model_copy(update={"counts": {"elapsed_ms": round(elapsed_s * 1000)}})


def meter_readings(meters: Meters, harness: HarnessConfig) -> tuple[SensorReading, ...]:
    """Return one reading per meter, each against the setpoint it serves."""
    use = budget_use(meters, harness)
    readings = [
        _budget("turns", str(meters.turns), f"≤ {harness.max_turns}", use["turns"]),
        _budget("cost", f"${meters.cost_usd:.2f}", f"≤ ${harness.max_cost_usd:g}", use["cost"]),
        _budget("tokens", f"{meters.tokens:,}", f"≤ {harness.max_tokens:,}", use["tokens"]),
    ]
    gauge = meters.context
    readings.append(
        SensorReading(
            sensor="meter:context",
            setpoint=f"< {COMPACT_ENTER:.0%} of the window",
            status="unknown" if gauge.window == 0 else ("unmet" if gauge.high else "met"),
            met=None if gauge.window == 0 else not gauge.high,
            value=f"{gauge.pressure:.0%} ({gauge.tokens:,} of {gauge.window:,})",
            counts={"tokens": gauge.tokens, "window": gauge.window},
        )
    )
    streak_ok = meters.error_streak < harness.recover_after
    readings.append(
        SensorReading(
            sensor="meter:errors",
            setpoint=f"< {harness.recover_after} failures in a row",
            status="met" if streak_ok else "unmet",
            met=streak_ok,
            value=str(meters.error_streak),
        )
    )
    if meters.progress:
        last = meters.progress[-1]
        before = meters.progress[-2] if len(meters.progress) > 1 else None
        trend = (
            f" (was {before.failing_checks} failing, {before.failures} failures)" if before else ""
        )
        readings.append(
            SensorReading(
                sensor="meter:progress",
                setpoint="all checks met",
                status="met" if last.failing_checks == 0 else "unmet",
                met=last.failing_checks == 0,
                value=f"{last.failing_checks} failing, {last.failures} failures{trend}",
                counts={"failing_checks": last.failing_checks, "failures": last.failures},
            )
        )
    return tuple(readings)
