"""Core overhead: per model step and per tool call, with the model and the tools taking no time.

Run: ``.venv/bin/python -m pytest benches/bench_agent.py --benchmark-enable -s``

The provider answers instantly from prebuilt stream events and the tool system returns at once,
so what is measured is the core alone: the daemon, the bus (stamping, fan-out, the log writer),
request building with conversation repair, message assembly and accounting. Targets: under 1 ms
per step and per tool call. The 500-turn test reports the memory the core holds for a long session.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import tracemalloc
from typing import TYPE_CHECKING, Any, ClassVar

from arcan_core.agent.session import CoreOptions, open_core
from arcan_core.agent.state import TurnLimits
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import ToolCallFinished, TurnFinished
from arcan_core.protocol.messages import Usage
from arcan_core.protocol.operations import Shutdown, SubmitPrompt
from arcan_core.providers.base import (
    ModelInfo,
    Provider,
    ProviderRequest,
    ProviderSettings,
    StreamEnd,
    TextChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    ToolSpec,
    UsageReport,
)
from arcan_core.tools.base import ToolOutcome

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

    from arcan_core.agent.daemon import CoreDaemon
    from arcan_core.protocol.operations import ApprovalMode
    from arcan_core.providers.base import StreamEvent
    from arcan_core.tools.base import ApprovalAsker, EventSink, ToolCallRequest

MODEL = ModelInfo(id="instant", provider="instant", context_window=10_000_000)
ANSWER = "The change is done and the tests pass. " * 8  # ~300 characters


class Instant(Provider):
    """Answers at once: ``calls`` tool calls per step for ``steps - 1`` steps, then text."""

    name: ClassVar[str] = "instant"
    default_model: ClassVar[str] = "instant"

    def __init__(self, steps: int, calls: int) -> None:
        super().__init__(ProviderSettings(name="instant"))
        self.steps = steps
        self.calls = calls
        self._step = 0
        self._ids = 0

    def reset(self) -> None:
        self._step = 0

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        self._step += 1
        yield TextChunk(text="Working on it. ")
        if self._step < self.steps:
            for _ in range(self.calls):
                self._ids += 1
                call_id = f"c{self._ids}"
                yield ToolCallBegin(call_id=call_id, name="noop")
                yield ToolCallChunk(call_id=call_id, fragment='{"path": "src/app.py"}')
                yield ToolCallEnd(call_id=call_id)
            yield UsageReport(usage=Usage(input_tokens=1000, output_tokens=20))
            yield StreamEnd(stop_reason="tool_use")
        else:
            yield TextChunk(text=ANSWER)
            yield UsageReport(usage=Usage(input_tokens=1000, output_tokens=80))
            yield StreamEnd(stop_reason="end_turn")

    async def list_models(self) -> list[str]:
        return [self.default_model]


class NoopTools:
    """Returns a result at once, announcing it like the real executor does."""

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        del mode
        schema: dict[str, Any] = {"type": "object", "properties": {"path": {"type": "string"}}}
        return (ToolSpec(name="noop", description="does nothing", input_schema=schema),)

    def set_mode(self, mode: ApprovalMode) -> None:
        del mode

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        del ask
        outcomes = []
        for call in calls:
            args = json.loads(call.arguments)
            emit(ToolCallFinished(call_id=call.call_id, name=call.name, input=args, result="ok"))
            outcomes.append(
                ToolOutcome(call_id=call.call_id, name=call.name, input=args, content="ok")
            )
        return outcomes


async def _core(project: Path, provider: Instant, *, persist: bool) -> CoreDaemon:
    return await open_core(
        CoreOptions(
            project_dir=project,
            config=ArcanConfig(provider="instant", mode="full-auto"),
            provider=provider,
            model_info=MODEL,
            tools=NoopTools(),
            checkpoints=False,
            persist=persist,
            home=project / "home",
            limits=TurnLimits(max_steps=10_000),
        )
    )


async def _turn(core: CoreDaemon, events: AsyncIterator[Any]) -> None:
    core.submit(SubmitPrompt(text="go"))
    async for event in events:
        if isinstance(event.msg, TurnFinished):
            return


def _per_turn_seconds(project: Path, steps: int, calls: int, *, persist: bool) -> float:
    """Median seconds of one task of ``steps`` steps with ``calls`` tool calls each."""

    async def run() -> float:
        provider = Instant(steps, calls)
        core = await _core(project, provider, persist=persist)
        events = core.subscribe()
        timings = []
        for _ in range(7):
            provider.reset()
            started = time.perf_counter()
            await _turn(core, events)
            timings.append(time.perf_counter() - started)
        core.submit(Shutdown())
        await core.wait_closed()
        timings.sort()
        return timings[len(timings) // 2]

    return asyncio.run(run())


def test_core_overhead_per_step_and_per_call(benchmark: Any, tmp_path: Path) -> None:
    def measure() -> dict[str, float]:
        figures: dict[str, float] = {}
        for persist in (False, True):
            base = tmp_path / f"log-{persist}"
            one = _per_turn_seconds(base / "a", 1, 0, persist=persist)
            steps = _per_turn_seconds(base / "b", 21, 1, persist=persist)
            wide = _per_turn_seconds(base / "c", 21, 10, persist=persist)
            label = "logged" if persist else "core"
            figures[f"{label}_per_step_ms"] = (steps - one) / 20 * 1000
            figures[f"{label}_per_call_ms"] = (wide - steps) / (20 * 9) * 1000
        return figures

    for persist in (False, True):
        for path in ("a", "b", "c"):
            (tmp_path / f"log-{persist}" / path).mkdir(parents=True)
    result = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(
        f"\ncore overhead per model step: {result['core_per_step_ms']:.3f} ms "
        f"({result['logged_per_step_ms']:.3f} ms with the session log); per extra tool call: "
        f"{result['core_per_call_ms']:.3f} ms ({result['logged_per_call_ms']:.3f} ms logged)"
    )


def test_memory_of_a_500_turn_session(benchmark: Any, tmp_path: Path) -> None:
    async def run() -> tuple[float, int, float]:
        provider = Instant(2, 1)
        core = await _core(tmp_path, provider, persist=True)
        events = core.subscribe()
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        for _ in range(500):
            provider.reset()
            await _turn(core, events)
        elapsed = time.perf_counter() - started
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        messages = len(core.messages)
        core.submit(Shutdown())
        await core.wait_closed()
        return held / 2**20, messages, elapsed

    held_mib, messages, elapsed = benchmark.pedantic(
        lambda: asyncio.run(run()), rounds=1, iterations=1
    )
    log = next((tmp_path / ".arcan" / "sessions").glob("*.jsonl"))
    benchmark.extra_info.update(
        held_mib=held_mib, messages=messages, log_mib=log.stat().st_size / 2**20
    )
    print(
        f"\n500 turns ({messages} messages): core holds {held_mib:.1f} MiB, "
        f"log {log.stat().st_size / 2**20:.1f} MiB, {elapsed / 500 * 1000:.2f} ms per turn "
        "of two steps"
    )
