"""The executor: validates a batch of calls, asks for approval, and runs the calls as actors.

Each call becomes an actor: a task with a mailbox that receives a cancel (``cancel_call``) while
the call waits for approval or runs. Before anything runs, the batch is laid out as a small
dependency graph in call order: read-only calls never wait for each other; a mutating call waits
for every earlier call that touches an overlapping path; a mutating call whose paths cannot be
known (the shell) waits for everything before it, and everything after it waits for it. Results
come back in call order whatever order the calls finished in.

Cancelling the task that runs ``run_batch`` (the user pressed Esc) cancels every actor; the shell
tool kills its process group on the way out, and ``run_batch`` returns only once that is done.

Session state (files read and their stamps, the todo list) lives on the executor, so it outlives
one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from arcan_core.config.secrets import Redactor, is_secret_name
from arcan_core.errors import ArcanError, ToolError
from arcan_core.protocol.events import (
    ApprovalRequest,
    ToolCallFinished,
    ToolCallOutput,
    ToolDisplay,
    Warning,  # noqa: A004 - the protocol's event name
)
from arcan_core.tools.base import Tool, ToolCallRequest, ToolContext, ToolOutcome, ToolResult
from arcan_core.tools.output import MAX_RESULT_CHARS, trim_middle
from arcan_core.tools.sandbox import Sandbox, default_sandbox
from arcan_core.tools.state import SessionState

if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

    from arcan_core.protocol.events import EventMsg
    from arcan_core.protocol.operations import AnswerApproval, ApprovalMode
    from arcan_core.tools.base import ApprovalAsker, EventSink
    from arcan_core.tools.policy import ApprovalPolicy, Decision
    from arcan_core.tools.registry import ToolRegistry

__all__ = ["ToolExecutor"]

_SANDBOXED_MODES = frozenset({"auto-edit", "full-auto"})
_T = TypeVar("_T")


class _Cancelled(Exception):  # noqa: N818 - a signal between an actor's steps, not an error
    """The call's mailbox received a cancel."""


@dataclass
class _Actor:
    """One call: what it is, what it touches, and its mailbox."""

    index: int
    request: ToolCallRequest
    tool: Tool[Any] | None = None
    input: dict[str, Any] = field(default_factory=dict)
    args: BaseModel | None = None
    error: str | None = None
    paths: tuple[Path, ...] = ()
    mailbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    deps: list[_Actor] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.tool is not None and self.args is not None

    @property
    def read_only(self) -> bool:
        return self.tool is not None and self.tool.read_only

    @property
    def barrier(self) -> bool:
        """A mutating call whose paths are unknown (the shell) orders against everything."""
        return self.valid and not self.read_only and not self.paths

    def conflicts_with(self, earlier: _Actor) -> bool:
        if not (self.valid and earlier.valid) or (self.read_only and earlier.read_only):
            return False
        if self.barrier or earlier.barrier:
            return True
        return any(_overlap(a, b) for a in self.paths for b in earlier.paths)


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


class ToolExecutor:
    """Runs batches of tool calls for one session under an approval policy."""

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        workspace: Path,
        policy: ApprovalPolicy,
        mode: ApprovalMode,
        extra_roots: Sequence[Path] = (),
        env: dict[str, str] | None = None,
        sandbox: Sandbox | None = None,
        result_limit: int = MAX_RESULT_CHARS,
    ) -> None:
        """Create an executor.

        Args:
            registry: the tools on offer.
            workspace: the project directory; tools run there and paths are checked against it.
            policy: the approval policy (rules, remembered answers).
            mode: the approval mode to start in.
            extra_roots: directories outside the workspace the user added.
            env: the environment commands start from (default: this process's); variables whose
                names look secret are removed before a command sees them.
            sandbox: the shell's sandbox (default: probe for bubblewrap).
            result_limit: the most characters one result may put into the model's context.
        """
        self.registry = registry
        self.workspace = workspace.resolve()
        self.policy = policy
        self._mode: ApprovalMode = mode
        roots = [Path(p).resolve() for p in extra_roots] + list(policy.extra_roots)
        self.extra_roots = tuple(dict.fromkeys(roots))
        self._env = dict(os.environ if env is None else env)
        self.sandbox = sandbox if sandbox is not None else default_sandbox()
        self.session = SessionState()
        self.result_limit = result_limit
        self._actors: dict[str, _Actor] = {}
        self._approval_lock: asyncio.Lock | None = None

    @property
    def mode(self) -> ApprovalMode:
        """The approval mode in force."""
        return self._mode

    def set_mode(self, mode: ApprovalMode) -> None:
        """Change the approval mode for the following decisions."""
        self._mode = mode

    @property
    def tool_env(self) -> dict[str, str]:
        """The environment a command gets: this executor's, less secret-looking variables."""
        return {k: v for k, v in self._env.items() if not is_secret_name(k)}

    def cancel_call(self, call_id: str) -> bool:
        """Cancel one running or waiting call; return whether such a call was found."""
        actor = self._actors.get(call_id)
        if actor is None or actor.done.is_set():
            return False
        actor.mailbox.put_nowait("cancel")
        return True

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        """Run one batch of calls and return their outcomes in call order.

        Never raises for a bad call: invalid arguments, unknown tools, denials and tool failures
        all come back as outcomes the model reads. Cancelling the awaiting task cancels every
        call and kills the processes they started before the cancellation propagates.
        """
        redactor = Redactor({**os.environ, **self._env})
        actors = [self._prepare(index, call) for index, call in enumerate(calls)]
        for later in actors:
            later.deps = [a for a in actors[: later.index] if later.conflicts_with(a)]
        self._actors.update({a.request.call_id: a for a in actors})
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._drive(a, emit, ask, redactor)) for a in actors]
            return [task.result() for task in tasks]
        finally:
            for actor in actors:
                self._actors.pop(actor.request.call_id, None)

    # -- preparing ---------------------------------------------------------------------------

    def _prepare(self, index: int, call: ToolCallRequest) -> _Actor:
        actor = _Actor(index=index, request=call)
        tool = self.registry.get(call.name)
        if tool is None:
            known = ", ".join(self.registry.names())
            actor.error = f"unknown tool {call.name!r}; the tools are: {known}"
            return actor
        validator = self.registry.validator(call.name)
        try:
            actor.input, actor.args = validator.parse(call.arguments)
        except ToolError as error:
            actor.error = _describe(error)
            with contextlib.suppress(ToolError):
                actor.input = validator.load(call.arguments)
            return actor
        actor.tool = tool
        try:
            actor.paths = tool.touched_paths(actor.args, self._context(actor, _drop))
        except ToolError as error:
            actor.error = _describe(error)
            actor.tool = None
        return actor

    def _context(
        self, actor: _Actor, emit: EventSink, allowed: frozenset[Path] = frozenset()
    ) -> ToolContext:
        sandboxed = self._mode in _SANDBOXED_MODES and self.sandbox.available
        return ToolContext(
            workspace=self.workspace,
            call_id=actor.request.call_id,
            emit=emit,
            extra_roots=self.extra_roots,
            env=self.tool_env,
            session=self.session,
            allowed_paths=allowed | self.policy.session_paths,
            sandbox=self.sandbox if sandboxed else None,
            hidden=self.policy.read_denied if self.policy.hides_paths else None,
        )

    # -- running -----------------------------------------------------------------------------

    async def _drive(
        self, actor: _Actor, emit: EventSink, ask: ApprovalAsker, redactor: Redactor
    ) -> ToolOutcome:
        started = time.monotonic()
        try:
            for dep in actor.deps:
                await dep.done.wait()
            outcome = await self._outcome(actor, emit, ask, redactor)
        except asyncio.CancelledError:
            actor.done.set()
            emit(self._finished(actor, "cancelled by the user", True, False, None, started))
            raise
        actor.done.set()
        emit(
            self._finished(
                actor, outcome.content, outcome.is_error, outcome.denied, outcome.display, started
            )
        )
        return outcome

    async def _outcome(
        self, actor: _Actor, emit: EventSink, ask: ApprovalAsker, redactor: Redactor
    ) -> ToolOutcome:
        if actor.tool is None or actor.args is None:
            return self._result(actor, actor.error or "invalid call", is_error=True)
        tool, args = actor.tool, actor.args
        verdict = await self._approve(actor, tool, args, emit, ask, redactor)
        if isinstance(verdict, ToolOutcome):
            return verdict
        allowed = verdict
        ctx = self._context(actor, _scrubbing(emit, redactor), allowed)
        try:
            result = await self._race(actor, tool.run(args, ctx))
        except _Cancelled:
            return self._result(actor, "cancelled by the user", is_error=True)
        except ArcanError as error:
            return self._result(actor, redactor(_describe(error)), is_error=True)
        except Exception as error:  # noqa: BLE001 - boundary: a broken tool must not end the turn
            text = f"internal error in the {tool.name} tool: {type(error).__name__}: {error}"
            return self._result(actor, redactor(text), is_error=True)
        return self._finish(actor, result, redactor)

    async def _approve(
        self,
        actor: _Actor,
        tool: Tool[Any],
        args: BaseModel,
        emit: EventSink,
        ask: ApprovalAsker,
        redactor: Redactor,
    ) -> ToolOutcome | frozenset[Path]:
        """Return the refusal to report, or the outside paths the call may use."""
        try:
            decision = self.policy.decide(
                tool,
                args,
                self._mode,
                # Only modes that sandbox the shell need the probe (it starts bwrap once).
                sandbox_reason=(
                    self.sandbox.unavailable_reason if self._mode in _SANDBOXED_MODES else None
                ),
                paths=actor.paths,
            )
        except ArcanError as error:
            # A tool's own rule_subjects or touched_paths refused its arguments.
            return self._result(actor, redactor(_describe(error)), is_error=True)
        if decision.action == "deny":
            return self._result(actor, f"denied: {decision.reason}", is_error=True, denied=True)
        if decision.action == "allow":
            return frozenset()
        try:
            answer = await self._ask(actor, tool, args, decision, ask, redactor)
        except _Cancelled:
            return self._result(actor, "cancelled by the user", is_error=True)
        if answer.decision != "allow":
            # One sentence the model (and a headless user) can act on: what asked, why, and the
            # refusal's own clause (who refused; for a headless run, how to allow it).
            refused = answer.reason or "the user refused it"
            return self._result(
                actor,
                f"denied: {tool.name} needed approval because {decision.reason}, and {refused}",
                is_error=True,
                denied=True,
            )
        return self._apply_answer(answer, decision, emit)

    async def _ask(
        self,
        actor: _Actor,
        tool: Tool[Any],
        args: BaseModel,
        decision: Decision,
        ask: ApprovalAsker,
        redactor: Redactor,
    ) -> AnswerApproval:
        ctx = self._context(actor, _drop)
        try:
            preview, kind = tool.preview(args, ctx)
            summary = tool.summary(args, ctx)
        except ToolError as error:
            preview, kind, summary = _describe(error), "text", tool.name
        request = ApprovalRequest(
            tool=tool.name,
            summary=summary,
            preview=trim_middle(redactor(preview), 20_000),
            preview_kind=kind,
            cwd=str(self.workspace),
            reason=decision.reason,
            scopes=decision.scopes,
            suggested_pattern=decision.suggested_pattern,
            allow_hint=self._allow_hint(tool, decision),
        )
        if self._approval_lock is None:
            self._approval_lock = asyncio.Lock()
        # One question at a time: a front-end shows one approval prompt, in call order. The
        # asker publishes ToolCallAwaitingApproval itself (the ApprovalAsker contract): a headless
        # asker has nobody to ask and publishes nothing, and publishing here too asked twice.
        async with self._approval_lock:
            return await self._race(
                actor, ask(actor.request.call_id, tool.name, actor.input, request)
            )

    def _allow_hint(self, tool: Tool[Any], decision: Decision) -> str:
        """Say how ``tool`` could run without asking, for a run where nobody can answer."""
        from arcan_core.tools.policy import MODE_TABLE, PERMISSIONS_FILE  # noqa: PLC0415

        if decision.outside_paths:
            return "add its directory to permissions.extra_roots in the configuration"
        if decision.suggested_pattern is None:
            # A dangerous command or an ask rule: no mode and no allow rule skips the question.
            return "only a person can approve it, so run the task interactively (arcan)"
        lets = {"allow"}
        if tool.category == "execute" and self.sandbox.unavailable_reason is None:
            lets.add("sandbox")  # those modes run the shell without asking when bwrap starts
        modes = [mode for mode, table in MODE_TABLE.items() if table[tool.category] in lets]
        rule = f"add the allow rule `{decision.suggested_pattern}` to {PERMISSIONS_FILE}"
        if not modes:
            return rule
        return "rerun with " + " or ".join(f"--mode {mode}" for mode in modes) + f", or {rule}"

    def _apply_answer(
        self, answer: AnswerApproval, decision: Decision, emit: EventSink
    ) -> frozenset[Path]:
        if decision.outside_paths:
            if answer.scope != "once":
                self.policy.admit_for_session(decision.outside_paths)
            return frozenset(decision.outside_paths)
        pattern = answer.pattern or decision.suggested_pattern
        # A scope the request did not offer (a "session" answer to a dangerous command) is "once".
        if answer.scope != "once" and pattern and answer.scope in decision.scopes:
            try:
                self.policy.remember(
                    pattern, "project" if answer.scope == "pattern" else answer.scope
                )
            except ArcanError as error:
                # The call was allowed; only remembering failed (a typo in an edited pattern).
                emit(Warning(message=f"the answer was not remembered: {error.message}"))
        return frozenset()

    async def _race(self, actor: _Actor, work: Awaitable[_T]) -> _T:
        """Await ``work`` unless the actor's mailbox receives a cancel first."""
        if not actor.mailbox.empty():
            # Cancelled while it waited for an earlier call: do not start the work at all.
            if asyncio.iscoroutine(work):
                work.close()
            raise _Cancelled
        task = asyncio.ensure_future(work)
        mail = asyncio.ensure_future(actor.mailbox.get())
        try:
            await asyncio.wait({task, mail}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            mail.cancel()
            await _cancel_and_wait(task)
            raise
        if task.done():
            mail.cancel()
            return task.result()
        await _cancel_and_wait(task)
        raise _Cancelled

    # -- results -----------------------------------------------------------------------------

    def _finish(self, actor: _Actor, result: ToolResult, redactor: Redactor) -> ToolOutcome:
        content = trim_middle(redactor(result.content), self.result_limit)
        display = result.display
        if display is not None:
            display = _scrub_display(display, redactor)
        return self._result(actor, content, is_error=result.is_error, display=display)

    def _result(
        self,
        actor: _Actor,
        content: str,
        *,
        is_error: bool = False,
        denied: bool = False,
        display: ToolDisplay | None = None,
    ) -> ToolOutcome:
        return ToolOutcome(
            call_id=actor.request.call_id,
            name=actor.request.name,
            input=actor.input,
            content=content,
            is_error=is_error,
            denied=denied,
            display=display,
        )

    def _finished(
        self,
        actor: _Actor,
        result: str,
        is_error: bool,
        denied: bool,
        display: ToolDisplay | None,
        started: float,
    ) -> ToolCallFinished:
        return ToolCallFinished(
            call_id=actor.request.call_id,
            name=actor.request.name,
            input=actor.input,
            result=result,
            is_error=is_error,
            denied=denied,
            display=display,
            duration_s=time.monotonic() - started,
        )


async def _cancel_and_wait(task: asyncio.Future[Any]) -> None:
    task.cancel()
    # Wait for the tool's own cleanup (killing a process group) before going on.
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _describe(error: ArcanError) -> str:
    return f"{error.message}\nhint: {error.hint}" if error.hint else error.message


def _drop(msg: EventMsg, /) -> None:
    del msg


def _scrubbing(emit: EventSink, redactor: Redactor) -> EventSink:
    def sink(msg: EventMsg, /) -> None:
        if isinstance(msg, ToolCallOutput):
            msg = msg.model_copy(update={"chunk": redactor(msg.chunk)})
        emit(msg)

    return sink


def _scrub_display(display: ToolDisplay, redactor: Redactor) -> ToolDisplay:
    update: dict[str, Any] = {
        key: redactor(value)
        for key in ("diff", "stdout", "stderr")
        if isinstance(value := getattr(display, key), str)
    }
    if display.items:
        update["items"] = tuple(redactor(item) for item in display.items)
    return display.model_copy(update=update) if update else display
