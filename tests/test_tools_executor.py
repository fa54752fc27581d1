"""The executor: validation, approval flow, ordering, concurrency, cancellation, redaction."""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from arcan_core.protocol.events import (
    ApprovalRequest,
    EventMsg,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallOutput,
    Warning,  # noqa: A004 - the protocol's event name
)
from arcan_core.protocol.operations import AnswerApproval, ApprovalScope
from arcan_core.tools.base import Tool, ToolCallRequest, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.executor import ToolExecutor
from arcan_core.tools.policy import PERMISSIONS_FILE, ApprovalPolicy
from arcan_core.tools.registry import ToolRegistry, default_registry
from arcan_core.tools.sandbox import BwrapSandbox, NoSandbox, probe_bwrap

SECRET = "hunter2-very-secret-value"


class Recorder:
    def __init__(self) -> None:
        self.events: list[EventMsg] = []
        self.output_seen = asyncio.Event()

    def __call__(self, msg: EventMsg, /) -> None:
        self.events.append(msg)
        if isinstance(msg, ToolCallOutput):
            self.output_seen.set()

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class Asker:
    """Answers approval requests from a script and records what it was asked."""

    def __init__(self, decision: str = "allow", scope: ApprovalScope = "once") -> None:
        self.decision = decision
        self.scope = scope
        self.asked: list[ApprovalRequest] = []

    async def __call__(
        self, call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
    ) -> AnswerApproval:
        self.asked.append(request)
        return AnswerApproval(
            call_id=call_id,
            decision="allow" if self.decision == "allow" else "deny",
            scope=self.scope,
            reason=None if self.decision == "allow" else "headless run: approval needed",
        )


def call(call_id: str, name: str, **arguments: Any) -> ToolCallRequest:
    return ToolCallRequest(call_id=call_id, name=name, arguments=json.dumps(arguments))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


def make(
    workspace: Path,
    mode: Any = "ask",
    registry: ToolRegistry | None = None,
    **kw: Any,
) -> ToolExecutor:
    kw.setdefault("sandbox", NoSandbox("tests run without a sandbox unless they ask for one"))
    env = kw.pop("env", {"PATH": os.environ["PATH"], "HOME": str(workspace.parent)})
    return ToolExecutor(
        registry or default_registry(),
        workspace=workspace,
        policy=kw.pop("policy", None) or ApprovalPolicy.load(workspace),
        mode=mode,
        env=env,
        **kw,
    )


# --- validation --------------------------------------------------------------------------------


async def test_invalid_json_unknown_tools_and_schema_errors_come_back_as_errors(
    workspace: Path,
) -> None:
    executor = make(workspace)
    calls = [
        ToolCallRequest(call_id="1", name="read", arguments="{not json"),
        ToolCallRequest(call_id="2", name="nope", arguments="{}"),
        ToolCallRequest(call_id="3", name="read", arguments='{"path": 3}'),
        ToolCallRequest(call_id="4", name="read", arguments='{"path": "a", "extra": 1}'),
        ToolCallRequest(call_id="5", name="read", arguments="[1]"),
        call("6", "patch", changes=[{"path": "a", "action": "explode"}]),
    ]
    out = await executor.run_batch(calls, emit=Recorder(), ask=Asker())
    assert all(o.is_error for o in out)
    assert "invalid JSON" in out[0].content
    assert "unknown tool 'nope'" in out[1].content
    assert "at $.path: 3 is not of type 'string'" in out[2].content
    assert "'extra' was unexpected" in out[3].content
    assert out[3].input == {"path": "a", "extra": 1}
    assert "must be a JSON object" in out[4].content
    assert "$.changes[0].action" in out[5].content


async def test_strict_mode_nulls_mean_defaults(workspace: Path) -> None:
    (workspace / "a.txt").write_text("x\n")
    executor = make(workspace)
    request = call("1", "read", path="a.txt", offset=None, limit=None, tags=None)
    [outcome] = await executor.run_batch([request], emit=Recorder(), ask=Asker())
    assert not outcome.is_error
    assert outcome.content == "     1\tx"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


_SHARED_REGISTRY = default_registry()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(
    name=st.sampled_from(_SHARED_REGISTRY.names()),
    payload=st.one_of(st.text(max_size=30), _JSON.map(json.dumps)),
)
def test_random_arguments_never_raise(workspace: Path, name: str, payload: str) -> None:
    # plan mode and a denying asker: whatever happens to validate cannot change anything.
    executor = make(workspace, mode="plan", registry=_SHARED_REGISTRY)
    request = ToolCallRequest(call_id="r", name=name, arguments=payload)
    [outcome] = asyncio.run(executor.run_batch([request], emit=Recorder(), ask=Asker("deny")))
    assert outcome.call_id == "r"
    assert isinstance(outcome.content, str)


# --- approval ----------------------------------------------------------------------------------


async def test_an_edit_in_ask_mode_asks_with_a_diff_and_runs_when_allowed(workspace: Path) -> None:
    (workspace / "m.py").write_text("a = 1\n")
    executor = make(workspace)
    recorder, asker = Recorder(), Asker()
    [outcome] = await executor.run_batch(
        [call("e1", "edit", path="m.py", old="a = 1", new="a = 2")], emit=recorder, ask=asker
    )
    assert not outcome.is_error
    assert (workspace / "m.py").read_text() == "a = 2\n"
    # The asker publishes the request (ApprovalAsker contract); the executor only hands it over.
    assert recorder.of(ToolCallAwaitingApproval) == []
    [request] = asker.asked
    assert request.preview_kind == "diff"
    assert "+a = 2" in request.preview
    assert request.cwd == str(workspace)
    assert "ask mode asks" in request.reason
    assert request.suggested_pattern == "edit(m.py)"
    assert request.scopes == ("once", "session", "project", "pattern")
    [finished] = recorder.of(ToolCallFinished)
    assert finished.call_id == "e1"
    assert finished.display is not None
    assert finished.display.kind == "diff"


async def test_a_headless_denial_is_reported_to_the_model_and_changes_nothing(
    workspace: Path,
) -> None:
    (workspace / "m.py").write_text("a = 1\n")
    executor = make(workspace)
    calls = [
        call("e1", "edit", path="m.py", old="a = 1", new="a = 2"),
        call("r1", "read", path="m.py"),
    ]
    out = await executor.run_batch(calls, emit=Recorder(), ask=Asker("deny"))
    assert out[0].denied
    assert out[0].is_error
    assert "headless run: approval needed" in out[0].content
    assert "ask mode asks" in out[0].content
    assert not out[1].is_error
    assert (workspace / "m.py").read_text() == "a = 1\n"


async def test_policy_denials_are_reported_without_asking(workspace: Path) -> None:
    policy = ApprovalPolicy(workspace, deny=["bash(git push*)"])
    executor = make(workspace, mode="full-auto", policy=policy)
    asker = Asker()
    [outcome] = await executor.run_batch(
        [call("b", "bash", command="git push")], emit=Recorder(), ask=asker
    )
    assert outcome.denied
    assert "denied by the rule bash(git push*)" in outcome.content
    assert asker.asked == []


async def test_plan_mode_refuses_mutating_calls(workspace: Path) -> None:
    executor = make(workspace, mode="plan")
    [outcome] = await executor.run_batch(
        [call("w", "write", path="x.txt", content="x")], emit=Recorder(), ask=Asker()
    )
    assert outcome.denied
    assert "plan mode is read-only" in outcome.content
    assert not (workspace / "x.txt").exists()
    executor.set_mode("auto-edit")
    [again] = await executor.run_batch(
        [call("w", "write", path="x.txt", content="x")], emit=Recorder(), ask=Asker()
    )
    assert not again.is_error
    assert executor.mode == "auto-edit"


async def test_session_answers_are_remembered_across_batches(workspace: Path) -> None:
    executor = make(workspace)
    asker = Asker(scope="session")
    for _ in range(2):
        await executor.run_batch([call("b", "bash", command="echo hi")], emit=Recorder(), ask=asker)
    assert len(asker.asked) == 1
    assert not (workspace / PERMISSIONS_FILE).exists()


async def test_project_answers_are_saved(workspace: Path) -> None:
    executor = make(workspace)
    await executor.run_batch(
        [call("b", "bash", command="echo hi")], emit=Recorder(), ask=Asker(scope="project")
    )
    assert "bash(echo hi*)" in (workspace / PERMISSIONS_FILE).read_text()


async def test_an_outside_path_asks_and_runs_only_when_approved(
    workspace: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("outside\n")
    executor = make(workspace, mode="full-auto")
    asker = Asker("deny")
    [refused] = await executor.run_batch(
        [call("r", "read", path="../notes.txt")], emit=Recorder(), ask=asker
    )
    assert refused.denied
    assert "outside the workspace" in refused.content
    assert asker.asked[0].scopes == ("once", "session")
    [allowed] = await executor.run_batch(
        [call("r", "read", path="../notes.txt")], emit=Recorder(), ask=Asker()
    )
    assert allowed.content == "     1\toutside"
    # "once" admitted it for that call only.
    again = Asker("deny")
    await executor.run_batch([call("r", "read", path="../notes.txt")], emit=Recorder(), ask=again)
    assert len(again.asked) == 1


async def test_without_a_sandbox_shell_calls_ask_in_full_auto(workspace: Path) -> None:
    executor = make(workspace, mode="full-auto", sandbox=NoSandbox("no bwrap on this machine"))
    asker = Asker("deny")
    [outcome] = await executor.run_batch(
        [call("b", "bash", command="ls")], emit=Recorder(), ask=asker
    )
    assert outcome.denied
    assert "no bwrap on this machine" in asker.asked[0].reason


BWRAP = shutil.which("bwrap")


@pytest.mark.skipif(
    BWRAP is None or probe_bwrap(BWRAP) is not None, reason="bubblewrap cannot run here"
)
async def test_full_auto_runs_the_shell_in_the_sandbox(workspace: Path, tmp_path: Path) -> None:
    assert BWRAP is not None
    executor = make(workspace, mode="full-auto", sandbox=BwrapSandbox(BWRAP))
    asker = Asker("deny")
    command = f"echo in > inside.txt; echo out > {tmp_path / 'outside.txt'}"
    [outcome] = await executor.run_batch(
        [call("b", "bash", command=command)], emit=Recorder(), ask=asker
    )
    assert asker.asked == []
    assert (workspace / "inside.txt").read_text() == "in\n"
    assert not (tmp_path / "outside.txt").exists()
    assert outcome.call_id == "b"


# --- redaction ---------------------------------------------------------------------------------


async def test_secrets_are_redacted_from_results_events_and_displays(workspace: Path) -> None:
    (workspace / "leak.txt").write_text(f"value={SECRET}\nshaped=sk-ant-api03-abcdefghijklmnop\n")
    env = {"PATH": os.environ["PATH"], "MY_SERVICE_TOKEN": SECRET}
    executor = make(workspace, mode="auto-edit", env=env)
    recorder = Recorder()
    out = await executor.run_batch(
        [
            call("r", "read", path="leak.txt"),
            call("b", "bash", command="cat leak.txt; env"),
        ],
        emit=recorder,
        ask=Asker(),
    )
    everything = json.dumps([o.model_dump() for o in out]) + json.dumps(
        [e.model_dump() for e in recorder.events]
    )
    assert SECRET not in everything
    assert "sk-ant-api03" not in everything
    assert "[REDACTED]" in out[0].content
    # The secret-named variable never reached the command's environment.
    assert "MY_SERVICE_TOKEN" not in out[1].content


# --- ordering and concurrency ------------------------------------------------------------------


class _ProbeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    label: str


class _Probe:
    """Shared log of what probe tools did, and a meeting point for concurrent ones."""

    def __init__(self, expected_together: int) -> None:
        self.log: list[tuple[str, str]] = []
        self.active = 0
        self.max_active = 0
        self.barrier = asyncio.Barrier(expected_together)


class _ProbeBase(Tool[_ProbeInput]):
    description: ClassVar[str] = "test probe"
    input_model: ClassVar[type[BaseModel]] = _ProbeInput
    probe: ClassVar[_Probe]
    meet: ClassVar[bool] = False

    def touched_paths(self, args: _ProbeInput, ctx: ToolContext) -> tuple[Path, ...]:
        return (ctx.resolve_unchecked(args.path),)

    async def run(self, args: _ProbeInput, ctx: ToolContext) -> ToolResult:
        probe = type(self).probe
        probe.log.append(("start", args.label))
        probe.active += 1
        probe.max_active = max(probe.max_active, probe.active)
        if self.meet:
            # Only calls that really run at the same time can all reach the barrier.
            await asyncio.wait_for(probe.barrier.wait(), 5)
        for _ in range(5):
            await asyncio.sleep(0)
        probe.active -= 1
        probe.log.append(("end", args.label))
        return ToolResult(content=args.label)


def _probe_registry(probe: _Probe, *, meet: bool) -> ToolRegistry:
    class Look(_ProbeBase):
        name: ClassVar[str] = "look"
        read_only: ClassVar[bool] = True
        category: ClassVar[ToolCategory] = "read"

    class Touch(_ProbeBase):
        name: ClassVar[str] = "touch"
        category: ClassVar[ToolCategory] = "edit"

    Look.probe = Touch.probe = probe
    Look.meet = meet
    return ToolRegistry([Look, Touch])


async def test_read_only_calls_overlap_in_time(workspace: Path) -> None:
    probe = _Probe(expected_together=3)
    executor = make(workspace, mode="full-auto", registry=_probe_registry(probe, meet=True))
    calls = [call(str(i), "look", path=f"f{i}", label=f"r{i}") for i in range(3)]
    out = await executor.run_batch(calls, emit=Recorder(), ask=Asker())
    assert [o.content for o in out] == ["r0", "r1", "r2"]
    assert probe.max_active == 3


async def test_mutating_calls_on_one_path_run_one_after_another(workspace: Path) -> None:
    probe = _Probe(expected_together=1)
    executor = make(workspace, mode="full-auto", registry=_probe_registry(probe, meet=False))
    calls = [
        call("1", "touch", path="same.txt", label="w1"),
        call("2", "touch", path="other.txt", label="x"),
        call("3", "touch", path="same.txt", label="w2"),
        call("4", "look", path="same.txt", label="r"),
    ]
    out = await executor.run_batch(calls, emit=Recorder(), ask=Asker())
    assert [o.content for o in out] == ["w1", "x", "w2", "r"]
    log = probe.log
    assert log.index(("end", "w1")) < log.index(("start", "w2"))
    assert log.index(("end", "w2")) < log.index(("start", "r"))
    # The call on another path did not wait for the first one.
    assert log.index(("start", "x")) < log.index(("end", "w1"))


async def test_results_come_back_in_call_order_with_real_tools(workspace: Path) -> None:
    (workspace / "a.txt").write_text("a\n")
    executor = make(workspace, mode="auto-edit", sandbox=NoSandbox("x"))
    calls = [
        call("1", "bash", command="sleep 0.2; echo slow"),
        call("2", "read", path="a.txt"),
        call("3", "todo", todos=[{"content": "step", "status": "in_progress"}]),
    ]
    recorder = Recorder()
    out = await executor.run_batch(calls, emit=recorder, ask=Asker())
    assert [o.call_id for o in out] == ["1", "2", "3"]
    assert "slow" in out[0].content
    assert executor.session.todos[0].content == "step"


# --- cancellation ------------------------------------------------------------------------------


def _dies(pid: int, within: float = 5.0) -> bool:
    """Wait (on a pidfd, not a sleep) until ``pid`` has exited; False if it outlives ``within``."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], within)
    finally:
        os.close(fd)
    return bool(ready) or not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


async def test_cancelling_the_batch_kills_running_commands(workspace: Path) -> None:
    executor = make(workspace, mode="auto-edit")
    recorder = Recorder()
    command = "sleep 300 & echo $!; wait"
    task = asyncio.create_task(
        executor.run_batch([call("b", "bash", command=command)], emit=recorder, ask=Asker())
    )
    await asyncio.wait_for(recorder.output_seen.wait(), 10)
    pid = int(recorder.of(ToolCallOutput)[0].chunk.split()[0])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert _dies(pid)
    [finished] = recorder.of(ToolCallFinished)
    assert finished.result == "cancelled by the user"


async def test_cancel_call_stops_one_call_and_lets_the_others_finish(workspace: Path) -> None:
    (workspace / "a.txt").write_text("a\n")
    executor = make(workspace, mode="auto-edit")
    recorder = Recorder()
    task = asyncio.create_task(
        executor.run_batch(
            [call("slow", "bash", command="echo go; sleep 300"), call("r", "read", path="a.txt")],
            emit=recorder,
            ask=Asker(),
        )
    )
    await asyncio.wait_for(recorder.output_seen.wait(), 10)
    assert executor.cancel_call("slow")
    out = await asyncio.wait_for(task, 10)
    assert out[0].content == "cancelled by the user"
    assert out[0].is_error
    # The read waited for the shell (a barrier) and still ran after its cancel.
    assert out[1].content == "     1\ta"
    assert not executor.cancel_call("slow")


class _PatternAsker(Asker):
    def __init__(self, pattern: str, scope: ApprovalScope) -> None:
        super().__init__(scope=scope)
        self.pattern = pattern

    async def __call__(
        self, call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
    ) -> AnswerApproval:
        self.asked.append(request)
        return AnswerApproval(
            call_id=call_id, decision="allow", scope=self.scope, pattern=self.pattern
        )


async def test_an_edited_pattern_is_saved_and_a_bad_one_only_warns(workspace: Path) -> None:
    executor = make(workspace)
    await executor.run_batch(
        [call("b", "bash", command="echo hi")],
        emit=Recorder(),
        ask=_PatternAsker("bash(echo*)", "pattern"),
    )
    assert "bash(echo*)" in (workspace / PERMISSIONS_FILE).read_text()
    recorder = Recorder()
    [outcome] = await executor.run_batch(
        [call("c", "bash", command="printf x")],
        emit=recorder,
        ask=_PatternAsker("bash(printf", "pattern"),
    )
    assert outcome.content.startswith("x")
    [warning] = recorder.of(Warning)
    assert "not remembered" in warning.message


async def test_a_dangerous_command_is_never_remembered(workspace: Path) -> None:
    (workspace / ".git" / "hooks").mkdir(parents=True)
    executor = make(workspace, mode="auto-edit")
    asker = _PatternAsker("bash", "project")
    command = "echo '#!/bin/sh' > .git/hooks/pre-commit"
    for _ in range(2):
        await executor.run_batch([call("d", "bash", command=command)], emit=Recorder(), ask=asker)
    assert len(asker.asked) == 2
    assert asker.asked[0].scopes == ("once",)
    assert not (workspace / PERMISSIONS_FILE).exists()


async def test_search_leaves_out_what_deny_rules_hide(workspace: Path) -> None:
    (workspace / "secrets").mkdir()
    (workspace / "secrets" / "prod.env").write_text("password=needle\n")
    (workspace / ".env").write_text("needle\n")
    (workspace / "app.py").write_text("needle = 1\n")
    policy = ApprovalPolicy(workspace, deny=["read(secrets/**)", "read(.env)"])
    executor = make(workspace, mode="ask", policy=policy)
    out = await executor.run_batch(
        [
            call("g", "grep", pattern="needle"),
            call("l", "glob", pattern="*"),
            call("r", "read", path="secrets/prod.env"),
        ],
        emit=Recorder(),
        ask=Asker(),
    )
    assert out[0].content.splitlines() == [
        "app.py",
        "  1: needle = 1",
        "[2 files left out by the user's deny rules]",
    ]
    assert "prod.env" not in out[1].content
    assert ".env" not in out[1].content.splitlines()
    assert "[2 files left out by the user's deny rules]" in out[1].content
    assert out[2].denied


async def test_a_call_cancelled_while_waiting_never_starts(workspace: Path) -> None:
    executor = make(workspace, mode="auto-edit")
    recorder = Recorder()
    task = asyncio.create_task(
        executor.run_batch(
            [
                call("first", "bash", command="echo go; sleep 300"),
                call("second", "write", path="never.txt", content="x"),
            ],
            emit=recorder,
            ask=Asker(),
        )
    )
    await asyncio.wait_for(recorder.output_seen.wait(), 10)
    assert executor.cancel_call("second")
    assert executor.cancel_call("first")
    out = await asyncio.wait_for(task, 10)
    assert [o.content for o in out] == ["cancelled by the user"] * 2
    assert not (workspace / "never.txt").exists()


async def test_a_headless_denial_is_one_sentence_saying_what_why_and_how_to_allow(
    workspace: Path,
) -> None:
    from arcan_core.agent.approvals import HeadlessAsker  # noqa: PLC0415

    (workspace / "m.py").write_text("a = 1\n")
    executor = make(workspace)  # ask mode, and no sandbox can start
    calls = [
        call("e1", "edit", path="m.py", old="a = 1", new="a = 2"),
        call("b1", "bash", command="make test"),
        call("b2", "bash", command="sudo apt-get install x"),
    ]
    out = await executor.run_batch(calls, emit=Recorder(), ask=HeadlessAsker())
    assert [o.denied for o in out] == [True, True, True]
    assert out[0].content == (
        "denied: edit needed approval because ask mode asks before edit tools run, and nobody "
        "can approve it in a headless run; to allow it, rerun with --mode auto-edit or "
        f"--mode full-auto, or add the allow rule `edit(m.py)` to {PERMISSIONS_FILE}"
    )
    # With no sandbox, no mode runs the shell without asking: only a rule allows it.
    assert out[1].content.endswith(
        f"; to allow it, add the allow rule `bash(make test*)` to {PERMISSIONS_FILE}"
    )
    assert "--mode" not in out[1].content
    assert out[2].content.startswith("denied: bash needed approval because dangerous: ")
    assert out[2].content.endswith(
        "only a person can approve it, so run the task interactively (arcan)"
    )
    for outcome in out:
        assert outcome.content.count("denied") == 1
        assert "\n" not in outcome.content
    assert (workspace / "m.py").read_text() == "a = 1\n"
