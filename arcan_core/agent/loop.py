"""The turn loop: one task from a prompt to the model's last word.

A task (a "turn" in the protocol) is a series of model steps. Each step builds a request from the
repaired conversation, streams the reply (text, thinking and tool-call fragments go out as
deltas), appends the assembled assistant message, runs its tool calls through the tool system and
appends their results. The loop goes on while the model calls tools, the supervisor asks for more,
or steering prompts wait, and stops at a limit (steps, cost, tokens).

Interrupts cancel the task that runs ``Turn.drive``; ``Turn.finish_interrupted`` then closes the
conversation cleanly from what the loop recorded in its scratch: partial text is kept as an
incomplete message, and every call without a result gets one saying it was interrupted.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from arcan_core.agent.bus import is_delta
from arcan_core.agent.compaction import compact
from arcan_core.agent.conversation import INTERRUPTED_NOTE, interrupted_results, view_message
from arcan_core.agent.state import estimate_tokens
from arcan_core.agent.supervisor import PROCEED, Directive, StepReport, SupervisorContext
from arcan_core.errors import ArcanError, ContextTooLongError, ProviderError, StoreError
from arcan_core.protocol.events import (
    ErrorEvent,
    Event,
    EventMsg,
    MessageAppended,
    PromptQueued,
    RetryScheduled,
    TextDelta,
    ThinkingDelta,
    ToolCallArgumentsDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.events import (
    Warning as WarningEvent,
)
from arcan_core.protocol.messages import (
    ContentBlock,
    ImageBlock,
    Message,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from arcan_core.providers.base import (
    ProviderRequest,
    RetryNotice,
    StreamEnd,
    TextChunk,
    ThinkingChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    UsageReport,
)
from arcan_core.tools.base import ToolCallRequest, ToolOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from arcan_core.agent.state import AgentParts, AgentState, RequestSettings
    from arcan_core.protocol.operations import ApprovalMode
    from arcan_core.providers.base import ModelInfo, StreamEvent, ToolSpec

__all__ = [
    "INTERRUPTED_CALL",
    "INTERRUPTED_NOTE",
    "MODE_STRICTNESS",
    "THINKING_BUDGETS",
    "Turn",
    "reasoning_knobs",
    "request_view",
]

MODE_STRICTNESS: dict[ApprovalMode, int] = {"full-auto": 0, "auto-edit": 1, "ask": 2, "plan": 3}
"""Approval modes from the most permissive to the strictest."""

_Effort = Literal["minimal", "low", "medium", "high"]

THINKING_BUDGETS: dict[str, tuple[_Effort, int]] = {
    "off": ("low", 0),
    "minimal": ("minimal", 1024),
    "low": ("low", 4_000),
    "medium": ("medium", 10_000),
    "high": ("high", 32_000),
}
"""Each reasoning effort as the two request knobs: the effort an effort-taking API (OpenAI) gets,
and the thinking budget in tokens a budget-taking API (Anthropic) gets (0: thinking off).

``off`` cannot switch an OpenAI reasoning model's reasoning off: it asks for ``low``, the lowest
effort that every one of them accepts. 1,024 tokens is the smallest budget Anthropic accepts."""

MIN_THINKING_BUDGET = 1024


def reasoning_knobs(
    settings: RequestSettings, model: ModelInfo
) -> tuple[int | None, _Effort | None]:
    """Return ``(thinking_budget, reasoning_effort)`` of a request for ``model``.

    No effort set: the configured ``thinking_budget`` and the model's default effort. A model
    that does not reason (by the registry's capability data) gets neither: sent to it, either
    knob is a 400. The budget stays under the model's output limit, which counts the thinking.
    """
    chosen = THINKING_BUDGETS.get(settings.reasoning_effort or "")
    if chosen is None:
        return settings.thinking_budget, None
    if not model.supports_thinking:
        return None, None
    effort, budget = chosen
    budget = min(budget, model.max_output_tokens - MIN_THINKING_BUDGET)
    return (budget if budget >= MIN_THINKING_BUDGET else None), effort


INTERRUPTED_CALL = "Interrupted by the user before the call finished."
FAILED_CALL = "The call was cut off by an internal error in arcan; its effects are unknown."


@dataclass
class _Call:
    call_id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    ended: bool = False


@dataclass
class _Partial:
    """The assistant message being streamed, in arrival order."""

    blocks: list[ContentBlock | _Call] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    signature: str | None = None
    calls: dict[str, _Call] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    stop_reason: StopReason | None = None

    def _flush(self) -> None:
        if self.thinking or self.signature:
            self.blocks.append(
                ThinkingBlock(thinking="".join(self.thinking), signature=self.signature)
            )
            self.thinking, self.signature = [], None
        if self.text:
            self.blocks.append(TextBlock(text="".join(self.text)))
            self.text = []

    def add_text(self, text: str) -> None:
        if self.thinking or self.signature:
            self._flush()
        self.text.append(text)

    def add_thinking(self, chunk: ThinkingChunk) -> None:
        if self.text:
            self._flush()
        if chunk.redacted is not None:
            # A redacted chunk closes the current block with the text so far and its own
            # signature: the Responses API needs the item id (signature) AND the encrypted
            # content (redacted) back together; Anthropic's redacted_thinking has neither text
            # nor signature. A signed block still pending is a block of its own.
            if self.signature is not None:
                self._flush()
            thinking = "".join(self.thinking)
            self.thinking = []
            self.blocks.append(
                ThinkingBlock(thinking=thinking, signature=chunk.signature, redacted=chunk.redacted)
            )
            return
        if chunk.text:
            if self.signature is not None:
                self._flush()  # a signature closes its block; new text opens the next
            self.thinking.append(chunk.text)
        if chunk.signature is not None:
            self.signature = chunk.signature

    def begin_call(self, call_id: str, name: str) -> None:
        self._flush()
        call = _Call(call_id, name)
        self.calls[call_id] = call
        self.blocks.append(call)

    def message(self, *, complete: bool) -> tuple[Message | None, list[ToolCallRequest]]:
        """Assemble the message; an incomplete one keeps text and thinking, not calls."""
        self._flush()
        content: list[ContentBlock] = []
        requests: list[ToolCallRequest] = []
        for block in self.blocks:
            if isinstance(block, _Call):
                if not complete:
                    continue
                raw = "".join(block.arguments)
                content.append(ToolUseBlock(id=block.call_id, name=block.name, input=_args(raw)))
                requests.append(
                    ToolCallRequest(call_id=block.call_id, name=block.name, arguments=raw)
                )
            else:
                content.append(block)
        if not any(_visible(b) for b in content):
            return None, []
        return Message(role="assistant", content=tuple(content), incomplete=not complete), requests


def _visible(block: ContentBlock) -> bool:
    if isinstance(block, TextBlock):
        return bool(block.text)
    if isinstance(block, ThinkingBlock):
        return bool(block.thinking or block.redacted)
    return True


def _args(raw: str) -> dict[str, Any]:
    """Parse a call's arguments for the conversation record.

    Unparsable arguments are recorded as an empty object; the executor reports the parse error
    to the model as the call's result, so the model can correct itself.
    """
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def request_view(messages: Sequence[Message]) -> tuple[Message, ...]:
    """Return the conversation as a provider should receive it (see ``view_message``)."""
    return tuple(map(view_message, messages))


@dataclass
class _Scratch:
    """What an interrupt needs to close the conversation cleanly."""

    partial: _Partial | None = None
    pending_calls: list[ToolUseBlock] = field(default_factory=list)
    finished: dict[str, ToolResultBlock] = field(default_factory=dict)


class Turn:
    """One task. Created by ``ReadyAgent.start_turn``; driven by ``RunningTurn``."""

    def __init__(
        self,
        parts: AgentParts,
        state: AgentState,
        emit: Callable[[EventMsg], Event],
        *,
        turn_id: str,
        prompt: str,
        images: tuple[ImageBlock, ...] = (),
    ) -> None:
        self.parts = parts
        self.state = state
        self._emit_raw = emit
        self.turn_id = turn_id
        self.prompt = prompt
        self.images = images
        self.steering: list[Message] = []
        self.compact_requested: str | None = None
        self.steps = 0
        self.usage = Usage()
        self.cost_usd = 0.0
        self.started = time.monotonic()
        self._scratch = _Scratch()
        self._step_events: list[Event] = []
        self._gate = PROCEED
        self._before: asyncio.Task[str] | None = None
        self._tools_ran = False
        self.limit_hit: str | None = None
        """Why a budget stopped the task, or ``None``."""

    # -- events ---------------------------------------------------------------------------------

    def emit(self, msg: EventMsg) -> None:
        """Publish ``msg`` and remember it for the supervisor's step report."""
        event = self._emit_raw(msg)
        if not is_delta(msg):
            self._step_events.append(event)

    def _append(self, message: Message) -> None:
        self.state.messages.append(message)
        self.emit(MessageAppended(message=message))

    def _tool_emit(self, msg: EventMsg) -> None:
        if isinstance(msg, ToolCallFinished):
            self._scratch.finished[msg.call_id] = ToolResultBlock(
                tool_use_id=msg.call_id, content=msg.result, is_error=msg.is_error
            )
        self.emit(msg)

    # -- steering -------------------------------------------------------------------------------

    def steer(self, text: str, images: tuple[ImageBlock, ...] = ()) -> None:
        """Queue a prompt for the next model step."""
        self.steering.append(Message(role="user", content=(*images, TextBlock(text=text))))
        self.emit(PromptQueued(text=text))

    def charge(self, usage: Usage, cost_usd: float) -> None:
        """Add a sub-agent's usage and cost to this task and the session."""
        self.usage = self.usage + usage
        self.cost_usd += cost_usd
        self.state.session_usage = self.state.session_usage + usage
        self.state.session_cost_usd += cost_usd

    # -- the loop -------------------------------------------------------------------------------

    async def drive(self) -> TurnFinished:
        """Run the task to its end and return the ``TurnFinished`` it emitted."""
        self.emit(TurnStarted(turn_id=self.turn_id, prompt=self.prompt))
        self._append(Message(role="user", content=(*self.images, TextBlock(text=self.prompt))))
        self.state.turns += 1
        if self.parts.checkpoints is not None:
            # Taken while the first request is on its way: nothing can change the files
            # before a tool runs, and the first tool waits for it (``_checkpoint_ready``).
            self._before = asyncio.create_task(self.parts.checkpoints.snapshot_before(self.turn_id))
        supervisor = self.parts.supervisor if self.state.harness_enabled else None
        if supervisor is not None:
            await supervisor.begin_turn(
                SupervisorContext(
                    turn_id=self.turn_id,
                    prompt=self.prompt,
                    workspace=self.parts.workspace,
                    mode=self.state.mode,
                    emit=self.emit,
                )
            )
        stop: StopReason = "end_turn"
        while True:
            self._drain_steering()
            stop, called = await self._step()
            if stop == "error":
                break
            directive = PROCEED
            if supervisor is not None:
                # The first report also holds the task's start (TurnStarted, the prompt).
                directive = await supervisor.after_step(self._report(stop, called=called))
            self._step_events = []
            if self._limit_reached():
                break
            if not await self._follow(directive, called=called):
                break
        return await self._finish(stop)

    async def _follow(self, directive: Directive, *, called: bool) -> bool:
        """Apply a directive; return whether another step follows."""
        self._gate = directive
        match directive.action:
            case "stop" | "ask_human":
                if directive.feedback:
                    self.emit(WarningEvent(message=directive.feedback))
                return False
            case "continue" | "recover":
                if directive.feedback:
                    self._append(
                        Message(role="user", content=(TextBlock(text=directive.feedback),))
                    )
                return True
            case "compact":
                self.compact_requested = directive.feedback or ""
                return called or bool(self.steering)
            case "proceed":
                return called or bool(self.steering)

    def _drain_steering(self) -> None:
        while self.steering:
            self._append(self.steering.pop(0))

    def _limit_reached(self) -> bool:
        limits = self.parts.limits
        reason: str | None = None
        if self.steps >= limits.max_steps:
            reason = f"the step limit ({limits.max_steps}) was reached"
        elif limits.max_cost_usd is not None and self.cost_usd >= limits.max_cost_usd:
            reason = f"the cost limit (${limits.max_cost_usd:.2f}) was reached"
        elif limits.max_tokens is not None and (
            self.usage.input_tokens + self.usage.output_tokens >= limits.max_tokens
        ):
            reason = f"the token limit ({limits.max_tokens}) was reached"
        if reason is None:
            return False
        self.limit_hit = reason
        self.emit(WarningEvent(message=f"stopped: {reason}"))
        return True

    def _report(self, stop: StopReason, *, called: bool) -> StepReport:
        return StepReport(
            turn_id=self.turn_id,
            step=self.steps,
            stop_reason=stop,
            called_tools=called,
            events=tuple(self._step_events),
            turn_usage=self.usage,
            turn_cost_usd=self.cost_usd,
            context_tokens=self.state.last_context_tokens,
            context_window=self.parts.model.context_window,
        )

    def _step_mode(self) -> ApprovalMode:
        """The session's mode, tightened by the supervisor's gate for this step."""
        mode = self.state.mode
        gate = self._gate
        if gate.action == "recover":
            return "plan"
        if gate.mode is not None and MODE_STRICTNESS[gate.mode] > MODE_STRICTNESS[mode]:
            return gate.mode
        return mode

    def _tool_specs(self) -> tuple[ToolSpec, ...]:
        specs = self.parts.tools.specs(self._step_mode())
        allowed = self._gate.allowed_tools
        if allowed is not None:
            specs = tuple(spec for spec in specs if spec.name in allowed)
        return specs

    def _base_tokens(self, tools: Sequence[ToolSpec]) -> int:
        text = self.parts.system_prompt + "".join(
            json.dumps(spec.input_schema) + spec.description for spec in tools
        )
        return estimate_tokens(text)

    async def _prepare(self, tools: tuple[ToolSpec, ...]) -> ProviderRequest:
        """Repair, compact if needed, and build the request of the next step."""
        fixed = self.state.repairer(self.state.messages)
        if fixed.changed:
            # Broken, not just unmerged: keep the repaired form so the warning comes once.
            self.state.messages[:] = fixed.messages
            for note in dict.fromkeys(fixed.notes):
                self.emit(WarningEvent(message=f"conversation repaired: {note}"))
        window = self.parts.model.context_window
        usable = window - self._output_budget()
        estimate = self.state.context_estimate(self._base_tokens(tools))
        if self.compact_requested is not None or estimate > usable * self.parts.compact_threshold:
            instructions = self.compact_requested or None
            self.compact_requested = None
            await compact(self.parts, self.state, self.emit, instructions=instructions)
            fixed = self.state.repairer(self.state.messages)
        thinking_budget, reasoning_effort = reasoning_knobs(self.parts.settings, self.parts.model)
        return ProviderRequest(
            model=self.parts.model.id,
            system=self.parts.system_prompt,
            messages=self.state.repairer.view
            if not fixed.changed
            else request_view(fixed.messages),
            tools=tools,
            max_output_tokens=self._output_budget(),
            thinking_budget=thinking_budget,
            reasoning_effort=reasoning_effort,
        )

    def _output_budget(self) -> int:
        configured = self.parts.settings.max_output_tokens or self.parts.model.max_output_tokens
        budget = min(configured, self.parts.model.max_output_tokens)
        if self._gate.max_output_tokens is not None:
            budget = min(budget, self._gate.max_output_tokens)
        return budget

    async def _step(self) -> tuple[StopReason, bool]:
        """Run one model step and its tool calls; return the stop reason and whether tools ran."""
        self.steps += 1
        tools = self._tool_specs()
        for attempt in range(2):
            request = await self._prepare(tools)
            partial = _Partial()
            self._scratch = _Scratch(partial=partial)
            try:
                await self._stream(request, partial)
                break
            except ContextTooLongError as error:
                # Our estimate was short of the provider's count: compact once and try again.
                if attempt or partial.blocks or partial.text or partial.thinking:
                    return self._fail(error, partial), False
                self.emit(WarningEvent(message="the context is too long; compacting and retrying"))
                self.compact_requested = ""
            except ProviderError as error:
                return self._fail(error, partial), False
        self._scratch.partial = None
        message, calls = partial.message(complete=True)
        self._account(partial.usage)
        if message is None:
            self.emit(WarningEvent(message="the model returned an empty reply"))
            return partial.stop_reason or "end_turn", False
        self._append(message)
        if not calls:
            return partial.stop_reason or "end_turn", False
        self._scratch.pending_calls = list(message.tool_uses())
        await self._checkpoint_ready()
        self._tools_ran = True
        by_id = await self._run_tools(calls, {spec.name for spec in tools})
        results: list[ContentBlock] = []
        for call in self._scratch.pending_calls:
            outcome = by_id.get(call.id)
            if outcome is None:
                results.extend(interrupted_results([call], "The call produced no result."))
            else:
                results.append(
                    ToolResultBlock(
                        tool_use_id=call.id, content=outcome.content, is_error=outcome.is_error
                    )
                )
        self._scratch.pending_calls = []
        self._append(Message(role="user", content=tuple(results)))
        return partial.stop_reason or "tool_use", True

    async def _run_tools(
        self, calls: list[ToolCallRequest], offered: set[str]
    ) -> dict[str, ToolOutcome]:
        """Run the calls of a step under its gate; calls of tools not offered are refused."""
        refused = [call for call in calls if call.name not in offered]
        runnable = [call for call in calls if call.name in offered]
        outcomes: dict[str, ToolOutcome] = {}
        for call in refused:
            text = f"tool {call.name!r} is not available in this step; use one of the offered tools"
            self._tool_emit(
                ToolCallFinished(call_id=call.call_id, name=call.name, result=text, is_error=True)
            )
            outcomes[call.call_id] = ToolOutcome(
                call_id=call.call_id, name=call.name, input={}, content=text, is_error=True
            )
        if not runnable:
            return outcomes
        mode = self._step_mode()
        tools = self.parts.tools
        if mode != self.state.mode:
            tools.set_mode(mode)
        try:
            batch = await tools.run_batch(runnable, emit=self._tool_emit, ask=self.parts.ask)
            outcomes.update((outcome.call_id, outcome) for outcome in batch)
        finally:
            if mode != self.state.mode:
                tools.set_mode(self.state.mode)
            self._absorb_sub_agents()
        return outcomes

    def _absorb_sub_agents(self) -> None:
        """Charge what sub-agents spent during the batch to this task and the session."""
        source = self.state.sub_agents
        if source is None:
            return
        usage, cost = source.take_charges()
        if usage == Usage() and not cost:
            return
        self.charge(usage, cost)
        self.emit(
            UsageUpdated(
                usage=usage,
                session_usage=self.state.session_usage,
                cost_usd=cost,
                session_cost_usd=self.state.session_cost_usd,
                context_tokens=self.state.last_context_tokens,
                context_window=self.parts.model.context_window,
            )
        )

    async def _stream(self, request: ProviderRequest, partial: _Partial) -> None:
        stream = self.parts.provider.stream(request)
        async for event in stream:
            self._on_stream_event(event, partial)

    def _on_stream_event(self, event: StreamEvent, partial: _Partial) -> None:
        match event:
            case TextChunk(text=text):
                partial.add_text(text)
                self.emit(TextDelta(text=text))
            case ThinkingChunk():
                partial.add_thinking(event)
                if event.text:
                    self.emit(ThinkingDelta(text=event.text))
            case ToolCallBegin(call_id=call_id, name=name):
                partial.begin_call(call_id, name)
                self.emit(ToolCallStarted(call_id=call_id, name=name))
            case ToolCallChunk(call_id=call_id, fragment=fragment):
                call = partial.calls.get(call_id)
                if call is not None:
                    call.arguments.append(fragment)
                self.emit(ToolCallArgumentsDelta(call_id=call_id, fragment=fragment))
            case ToolCallEnd(call_id=call_id):
                if call_id in partial.calls:
                    partial.calls[call_id].ended = True
            case UsageReport(usage=usage):
                partial.usage = usage
            case RetryNotice(attempt=attempt, delay_s=delay, reason=reason):
                self.emit(RetryScheduled(attempt=attempt, delay_s=delay, reason=reason))
            case StreamEnd(stop_reason=stop):
                partial.stop_reason = stop

    def _account(self, usage: Usage) -> None:
        cost = self.parts.model.cost_usd(usage)
        self.usage = self.usage + usage
        self.cost_usd += cost
        state = self.state
        state.session_usage = state.session_usage + usage
        state.session_cost_usd += cost
        context = usage.context_tokens + usage.output_tokens
        if context:
            state.last_context_tokens = context
            # The assistant message is appended after this; it is part of the counted context.
            state.messages_at_last_request = len(state.messages) + 1
        self.emit(
            UsageUpdated(
                usage=usage,
                session_usage=state.session_usage,
                cost_usd=cost,
                session_cost_usd=state.session_cost_usd,
                context_tokens=state.last_context_tokens,
                context_window=self.parts.model.context_window,
            )
        )

    def _fail(self, error: ProviderError, partial: _Partial) -> StopReason:
        """End the step on a provider error: keep partial text as incomplete, report the error."""
        self._scratch.partial = None
        self._account(partial.usage)
        message, _ = partial.message(complete=False)
        if message is not None:
            self._append(message)
        self.emit(ErrorEvent(kind=type(error).__name__, message=error.message, hint=error.hint))
        return "error"

    async def _checkpoint_ready(self) -> bool:
        """Wait for the prompt's snapshot; a failure is reported once and turns checkpoints off."""
        task, self._before = self._before, None
        if task is None:
            return self.parts.checkpoints is not None
        try:
            await asyncio.shield(task)
        except StoreError as error:
            self.emit(WarningEvent(message=f"checkpoints are off: {error.message}"))
            self.parts.checkpoints = None
            return False
        return True

    async def _finish(self, stop: StopReason) -> TurnFinished:
        if self.compact_requested is not None and stop != "interrupted":
            # Asked for while the last step ran: done now rather than dropped.
            instructions, self.compact_requested = self.compact_requested or None, None
            await compact(self.parts, self.state, self.emit, instructions=instructions)
        checkpoints = self.parts.checkpoints
        if await self._checkpoint_ready() and self._tools_ran and checkpoints is not None:
            try:
                await checkpoints.snapshot_after(self.turn_id)
            except StoreError as error:
                self.emit(WarningEvent(message=f"checkpoints are off: {error.message}"))
                self.parts.checkpoints = None
        finished = TurnFinished(
            turn_id=self.turn_id,
            stop_reason=stop,
            usage=self.usage,
            cost_usd=self.cost_usd,
            steps=self.steps,
            duration_s=round(time.monotonic() - self.started, 3),
        )
        self.emit(finished)
        if self.state.harness_enabled and self.parts.supervisor is not None:
            await self.parts.supervisor.end_turn(self.turn_id, stop)
        return finished

    async def finish_interrupted(
        self, stop: StopReason = "interrupted", reason: str = INTERRUPTED_CALL
    ) -> TurnFinished:
        """Close the conversation after the driving task was cancelled, and end the task."""
        scratch = self._scratch
        if scratch.partial is not None:
            self._account(scratch.partial.usage)
            message, _ = scratch.partial.message(complete=False)
            if message is not None:
                self._append(message)
        if scratch.pending_calls:
            results: list[ContentBlock] = []
            for call in scratch.pending_calls:
                done = scratch.finished.get(call.id)
                results.extend([done] if done is not None else interrupted_results([call], reason))
            self._append(Message(role="user", content=tuple(results)))
        self._scratch = _Scratch()
        # Steering prompts that never reached the model still belong to the conversation.
        self._drain_steering()
        return await self._finish(stop)

    async def finish_failed(self, error: BaseException) -> TurnFinished:
        """End the task after an unexpected error in the loop, keeping the conversation valid."""
        kind = type(error).__name__
        hint = error.hint if isinstance(error, ArcanError) else "run with --debug and report it"
        self.emit(ErrorEvent(kind=kind, message=str(error) or kind, hint=hint))
        return await self.finish_interrupted("error", FAILED_CALL)
