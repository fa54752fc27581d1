"""HookedTools: before_tool hooks block calls in place, after_edit hooks report, edits guarded."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from arcan_core.agent.supervisor import StepReport, SupervisorContext
from arcan_core.config.model import CheckConfig, HarnessConfig, HookConfig
from arcan_core.harness.hooks import HookedTools, HookRunner
from arcan_core.harness.loop import Harness
from arcan_core.harness.setpoints import Setpoints
from arcan_core.harness.watcher import ReadTracker
from arcan_core.protocol.events import Event, EventMsg, SensorReading, ToolCallFinished
from arcan_core.protocol.messages import Usage
from arcan_core.tools.base import ToolCallRequest
from tests.agent_support import FileTools

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.protocol.events import ApprovalRequest
    from arcan_core.protocol.operations import AnswerApproval

PY = sys.executable


async def _never_asked(
    call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
) -> AnswerApproval:
    raise AssertionError("no approval expected in full-auto")


def _call(call_id: str, name: str, arguments: str) -> ToolCallRequest:
    return ToolCallRequest(call_id=call_id, name=name, arguments=arguments)


async def test_before_tool_blocks_in_place_and_after_edit_reports(tmp_path: Path) -> None:
    (tmp_path / "guard.py").write_text(
        "import json, sys\n"
        "if 'secret' in json.load(sys.stdin)['input'].get('path', ''):\n"
        "    print('not that file'); sys.exit(1)\n"
    )
    (tmp_path / "a.txt").write_text("a")
    hooks = HookRunner(
        [
            HookConfig(event="before_tool", command=f"{PY} guard.py"),
            HookConfig(event="after_edit", command=f"{PY} -c 'import sys; sys.exit(3)'"),
        ],
        tmp_path,
    )
    inner = FileTools(tmp_path, mode="full-auto")
    tools = HookedTools(inner, hooks)
    emitted: list[EventMsg] = []
    calls = [
        _call("1", "read", '{"path": "a.txt"}'),
        _call("2", "read", '{"path": "secret.txt"}'),
        _call("3", "write", '{"path": "b.txt", "text": "b"}'),
    ]
    outcomes = await tools.run_batch(calls, emit=emitted.append, ask=_never_asked)
    assert [o.call_id for o in outcomes] == ["1", "2", "3"]
    assert outcomes[0].content == "a"
    assert outcomes[1].denied
    assert "not that file" in outcomes[1].content
    assert inner.calls == ["read", "write"]  # the blocked call never ran
    readings = [m for m in emitted if isinstance(m, SensorReading)]
    assert [(r.sensor, r.met) for r in readings if r.sensor.startswith("hook:before_tool")] == [
        ("hook:before_tool:0", True),
        ("hook:before_tool:0", False),
        ("hook:before_tool:0", True),
    ]
    after = [r for r in readings if r.sensor.startswith("hook:after_edit")]
    assert [(r.sensor, r.met) for r in after] == [("hook:after_edit:1", False)]
    finished = [m for m in emitted if isinstance(m, ToolCallFinished) and m.denied]
    assert [m.call_id for m in finished] == ["2"]


async def test_edit_of_a_file_changed_since_read_is_refused_once(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    reads = ReadTracker(tmp_path)
    tools = HookedTools(
        FileTools(tmp_path, mode="full-auto"), HookRunner([], tmp_path), reads=reads
    )
    emitted: list[EventMsg] = []
    await tools.run_batch(
        [_call("1", "read", '{"path": "a.py"}')], emit=emitted.append, ask=_never_asked
    )
    (tmp_path / "a.py").write_text("x = 2  # the human\n")
    assert reads.changed(tmp_path / "a.py") == "a.py"
    edit = _call("2", "write", '{"path": "a.py", "text": "x = 3\\n"}')
    first = await tools.run_batch([edit], emit=emitted.append, ask=_never_asked)
    assert first[0].denied
    assert "changed by someone else" in first[0].content
    assert (tmp_path / "a.py").read_text() == "x = 2  # the human\n"
    second = await tools.run_batch([edit], emit=emitted.append, ask=_never_asked)
    assert not second[0].is_error


async def test_attach_publishes_current_readings(tmp_path: Path) -> None:
    check = CheckConfig(command=f"{PY} -c 'pass'", watch=("*.py",))
    harness = Harness(
        Setpoints(harness=HarnessConfig(checks={"quick": check}), source="configured"), tmp_path
    )
    await harness.start(watch=False)
    await harness.live.wait_idle()
    seen: list[EventMsg] = []
    harness.attach(seen.append)
    await harness.close()
    assert [(m.sensor, m.status) for m in seen if isinstance(m, SensorReading)] == [
        ("check:quick", "met")
    ]


def _report(*msgs: EventMsg) -> StepReport:
    now = datetime.now(UTC)
    events = tuple(Event(session_id="s", seq=i, ts=now, msg=m) for i, m in enumerate(msgs))
    return StepReport(
        turn_id="t",
        step=1,
        stop_reason="tool_use",
        called_tools=True,
        events=events,
        turn_usage=Usage(),
        turn_cost_usd=0.0,
        context_tokens=0,
        context_window=0,
    )


async def test_a_change_during_a_step_is_judged_after_the_agents_own_edits(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 1\n")
    seen: list[EventMsg] = []
    harness = Harness(Setpoints(harness=HarnessConfig(), source="none"), tmp_path, emit=seen.append)
    ctx = SupervisorContext(
        turn_id="t", prompt="p", workspace=tmp_path, mode="full-auto", emit=seen.append
    )
    await harness.begin_turn(ctx)
    harness.reads.record("a.py")
    harness.reads.record("b.py")
    # The agent writes a.py; the watcher happens to report it before the step's result arrives.
    (tmp_path / "a.py").write_text("x = 2\n")
    # Meanwhile the human changes b.py in their editor.
    (tmp_path / "b.py").write_text("y = 2  # human\n")
    harness.files_changed({"a.py", "b.py"})
    assert not [m for m in seen if isinstance(m, SensorReading) and m.sensor.startswith("watch:")]
    edit = ToolCallFinished(call_id="c", name="write", input={"path": "a.py"}, result="ok")
    await harness.after_step(_report(edit))
    flagged = [
        m.value for m in seen if isinstance(m, SensorReading) and m.sensor.startswith("watch:")
    ]
    assert flagged == ["b.py"]
    await harness.close()
