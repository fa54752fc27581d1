"""The one router from core events to the TUI: each event type has one handler.

The router turns events into changes of transcript *data* (items) and of the status bar, sensor
panel and approval queue; widgets render from that data. ``HANDLERS`` is the registry (event
payload class -> method name), so adding an event type adds one method and one entry, and a test
checks that every event type of the protocol has a handler.

Replay: when the TUI resumes a session it subscribes with ``replay=True``. Events stamped before
the subscription began are history: their display-only deltas are dropped and the conversation is
rebuilt from the record events (``MessageAppended``, ``ToolCallFinished``), so a long session
resumes without re-streaming every token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from arcan_core.protocol import events as ev
from arcan_core.protocol.messages import TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from arcan_tui.transcript_data import (
    AssistantItem,
    Item,
    NoticeItem,
    ThinkingItem,
    ToolItem,
    UserItem,
    summarize_arguments,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from arcan_core.protocol.messages import Message

__all__ = ["HANDLERS", "ChatView", "EventRouter"]


class ChatView(Protocol):
    """What the router drives; the chat screen implements it."""

    def add_item(self, item: Item) -> None:
        """Append an item to the transcript."""

    def touch_item(self, item: Item) -> None:
        """Re-render an item soon."""

    def set_status(self, **changes: object) -> None:
        """Change status-bar fields."""

    def request_approval(self, event: ev.ToolCallAwaitingApproval) -> None:
        """Queue an approval request."""

    def drop_approval(self, call_id: str) -> None:
        """Forget a pending approval request."""

    def record_sensor(self, reading: ev.SensorReading) -> None:
        """Show a sensor reading."""

    def record_decision(self, decision: ev.ControllerDecision) -> None:
        """Show a controller decision."""


HANDLERS: dict[type[object], str] = {
    ev.TurnStarted: "turn_started",
    ev.PromptQueued: "prompt_queued",
    ev.MessageAppended: "message_appended",
    ev.TextDelta: "text_delta",
    ev.ThinkingDelta: "thinking_delta",
    ev.ToolCallStarted: "tool_call_started",
    ev.ToolCallArgumentsDelta: "tool_call_arguments_delta",
    ev.ToolCallAwaitingApproval: "tool_call_awaiting_approval",
    ev.ToolCallOutput: "tool_call_output",
    ev.ToolCallFinished: "tool_call_finished",
    ev.UsageUpdated: "usage_updated",
    ev.RetryScheduled: "retry_scheduled",
    ev.SensorReading: "sensor_reading",
    ev.ControllerDecision: "controller_decision",
    ev.HarnessToggled: "harness_toggled",
    ev.ContextCompacted: "context_compacted",
    ev.FilesRestored: "files_restored",
    ev.ModelChanged: "model_changed",
    ev.ModeChanged: "mode_changed",
    ev.ReasoningChanged: "reasoning_changed",
    ev.TurnFinished: "turn_finished",
    ev.ErrorEvent: "error",
    ev.Warning: "warning",
    ev.SessionSaved: "session_saved",
}
"""Event payload class -> name of the ``EventRouter`` method that handles it."""

DISPLAY_ONLY: tuple[type[object], ...] = (
    ev.TextDelta,
    ev.ThinkingDelta,
    ev.ToolCallArgumentsDelta,
    ev.ToolCallOutput,
    ev.ToolCallStarted,
    ev.ToolCallAwaitingApproval,
    ev.RetryScheduled,
)
"""Events ignored during replay: the records that follow them carry the same information."""


class EventRouter:
    """Routes core events to the chat view, keeping the state of the running turn."""

    def __init__(self, view: ChatView, *, live_since: datetime | None = None) -> None:
        self.view = view
        self.live_since = live_since or datetime.now(UTC)
        self.busy = False
        self._assistant: AssistantItem | None = None
        self._thinking: ThinkingItem | None = None
        self._tools: dict[str, ToolItem] = {}
        self._queued: list[UserItem] = []
        self._step_streamed = False
        """Whether this model step streamed here (then its record only corrects the blocks)."""

    def dispatch(self, event: ev.Event) -> None:
        """Handle one event."""
        payload = event.msg
        if event.ts < self.live_since and isinstance(payload, DISPLAY_ONLY):
            return
        if event.parent_call_id is not None:
            self._nested(event.parent_call_id, payload)
            return
        handler: Callable[[object], None] = getattr(self, HANDLERS[type(payload)])
        handler(payload)

    def _nested(self, parent_call_id: str, payload: ev.EventMsg) -> None:
        """Show a sub-agent's event inside the block of the ``task`` call that started it.

        Its tool calls become progress lines of that block and its approvals are asked like
        any other; its text, turns and usage stay out of the transcript, because the parent's
        result is the sub-agent's answer and its cost is charged to the parent's turn.
        """
        if isinstance(payload, ev.ToolCallAwaitingApproval):
            self.view.request_approval(payload)
        elif isinstance(payload, ev.ToolCallFinished):
            self.view.drop_approval(payload.call_id)
            parent = self._tools.get(parent_call_id)
            if parent is None:
                return
            outcome = " (denied)" if payload.denied else " (failed)" if payload.is_error else ""
            line = f"↳ {payload.name} {summarize_arguments(dict(payload.input), width=60)}"
            parent.add_output(f"{line.rstrip()}{outcome}\n")
            self.view.touch_item(parent)

    # -- helpers ------------------------------------------------------------------------------

    def _say(self, text: str, level: Literal["info", "warning", "error"] = "info") -> None:
        self.view.add_item(NoticeItem(text=text, level=level))

    def _end_text(self) -> None:
        """Finish the streaming reply and thinking: later output starts new blocks."""
        for item in (self._thinking, self._assistant):
            if item is not None and item.live:
                item.live = False
                self.view.touch_item(item)
        self._thinking = None
        self._assistant = None

    def _tool(self, call_id: str, name: str = "") -> ToolItem:
        item = self._tools.get(call_id)
        if item is None:
            item = ToolItem(call_id=call_id, name=name)
            self._tools[call_id] = item
            self.view.add_item(item)
        return item

    # -- handlers -----------------------------------------------------------------------------

    def turn_started(self, event: ev.TurnStarted) -> None:
        """A prompt started a turn: show it."""
        self._end_text()
        self.busy = True
        self.view.add_item(UserItem(text=event.prompt))
        self.view.set_status(busy=True, notice="")

    def prompt_queued(self, event: ev.PromptQueued) -> None:
        """A prompt waits for the next step: show it as queued."""
        item = UserItem(text=event.text, queued=True)
        self._queued.append(item)
        self.view.add_item(item)

    def message_appended(self, event: ev.MessageAppended) -> None:
        """A record of the conversation: un-queue prompts, finish or rebuild replies."""
        message = event.message
        if message.role == "user":
            self._user_message(message)
            return
        streamed, self._step_streamed = self._step_streamed, False
        if self._assistant is not None and self._assistant.text != message.text():
            # The record is the truth (a slow subscriber may have lost deltas).
            self._assistant.text = message.text()
        if streamed:
            self._end_text()
            return
        self._rebuild_assistant(message)

    def _user_message(self, message: Message) -> None:
        if any(isinstance(block, ToolResultBlock) for block in message.content):
            return
        text = message.text()
        for item in self._queued:
            if item.text == text:
                item.queued = False
                self._queued.remove(item)
                self.view.touch_item(item)
                return

    def _rebuild_assistant(self, message: Message) -> None:
        """Show a finished assistant message that did not stream here (replay)."""
        for block in message.content:
            if isinstance(block, ThinkingBlock) and block.thinking:
                self.view.add_item(ThinkingItem(text=block.thinking))
            elif isinstance(block, TextBlock) and block.text:
                self.view.add_item(AssistantItem(text=block.text))
            elif isinstance(block, ToolUseBlock) and block.id not in self._tools:
                item = ToolItem(call_id=block.id, name=block.name, input=dict(block.input))
                item.status = "running"
                self._tools[block.id] = item
                self.view.add_item(item)

    def text_delta(self, event: ev.TextDelta) -> None:
        """Stream reply text into the live assistant block."""
        self._step_streamed = True
        if self._thinking is not None and self._thinking.live:
            self._thinking.live = False
            self.view.touch_item(self._thinking)
        if self._assistant is None:
            self._assistant = AssistantItem()
            self._assistant.live = True
            self.view.add_item(self._assistant)
        self._assistant.text += event.text
        self.view.touch_item(self._assistant)

    def thinking_delta(self, event: ev.ThinkingDelta) -> None:
        """Stream reasoning into the live thinking block."""
        self._step_streamed = True
        if self._thinking is None:
            self._thinking = ThinkingItem()
            self._thinking.live = True
            self.view.add_item(self._thinking)
        self._thinking.text += event.text
        self.view.touch_item(self._thinking)

    def tool_call_started(self, event: ev.ToolCallStarted) -> None:
        """The model began a call: end the text block and show the call."""
        self._step_streamed = True
        self._end_text()
        item = self._tool(event.call_id, event.name)
        item.live = True
        self.view.touch_item(item)

    def tool_call_arguments_delta(self, event: ev.ToolCallArgumentsDelta) -> None:
        """Collect argument JSON (the summary is parsed from it once it is complete)."""
        item = self._tool(event.call_id)
        item.arguments += event.fragment
        self.view.touch_item(item)

    def tool_call_awaiting_approval(self, event: ev.ToolCallAwaitingApproval) -> None:
        """Show what would happen in the block and queue the question."""
        item = self._tool(event.call_id, event.name)
        item.live = True
        item.input = dict(event.input)
        item.request = event.request
        item.status = "awaiting"
        self.view.touch_item(item)
        self.view.request_approval(event)

    def tool_call_output(self, event: ev.ToolCallOutput) -> None:
        """Live shell output."""
        item = self._tool(event.call_id)
        if item.status in ("streaming", "awaiting"):
            item.status = "running"
        item.add_output(event.chunk)
        self.view.touch_item(item)

    def tool_call_finished(self, event: ev.ToolCallFinished) -> None:
        """Show the result the model got, rendered by its display kind."""
        item = self._tool(event.call_id, event.name)
        if event.input:
            item.input = dict(event.input)
        item.result = event.result
        item.display = event.display
        item.duration_s = event.duration_s
        item.status = "denied" if event.denied else "error" if event.is_error else "done"
        item.live = False
        self.view.touch_item(item)
        self.view.drop_approval(event.call_id)

    def usage_updated(self, event: ev.UsageUpdated) -> None:
        """Tokens, cost and context use."""
        usage = event.session_usage
        self.view.set_status(
            input_tokens=usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=event.session_cost_usd,
            context_tokens=event.context_tokens,
            context_window=event.context_window,
            notice="",
        )

    def retry_scheduled(self, event: ev.RetryScheduled) -> None:
        """The provider had trouble; say when the next attempt comes."""
        self.view.set_status(
            notice=f"retry {event.attempt} in {event.delay_s:.0f}s: {event.reason}",
            notice_level="warning",
        )

    def sensor_reading(self, event: ev.SensorReading) -> None:
        """A harness sensor read something."""
        self.view.record_sensor(event)

    def controller_decision(self, event: ev.ControllerDecision) -> None:
        """The harness controller decided; a stop is also said in the transcript."""
        self.view.record_decision(event)
        if event.mode == "stop" and event.stop_reason not in (None, "completed"):
            self._say(f"harness stopped: {event.stop_reason} — {event.rationale}", "warning")

    def harness_toggled(self, event: ev.HarnessToggled) -> None:
        """The harness was switched."""
        self.view.set_status(harness=event.enabled)

    def context_compacted(self, event: ev.ContextCompacted) -> None:
        """Older turns were summarised."""
        saved = f" ({event.tokens_before:,} → {event.tokens_after:,} tokens)"
        self._say(f"context compacted: {event.replaced} messages summarised{saved}")

    def files_restored(self, event: ev.FilesRestored) -> None:
        """Undo or rewind restored files."""
        self._say(f"restored {len(event.paths)} file(s): {', '.join(event.paths[:5])}")

    def model_changed(self, event: ev.ModelChanged) -> None:
        """Provider or model switched."""
        self.view.set_status(provider=event.provider, model=event.model)

    def mode_changed(self, event: ev.ModeChanged) -> None:
        """Approval mode switched."""
        self.view.set_status(mode=event.mode)

    def reasoning_changed(self, event: ev.ReasoningChanged) -> None:
        """Reasoning effort switched (the core warns when the model does not reason)."""
        self.view.set_status(effort=event.effort if event.applies else "")

    def turn_finished(self, event: ev.TurnFinished) -> None:
        """The task ended: finish live blocks, drop stale approvals, report an interruption."""
        self._end_text()
        self.busy = False
        for call_id, item in list(self._tools.items()):
            if item.live or item.status in ("streaming", "running", "awaiting"):
                if item.status in ("streaming", "awaiting"):
                    item.status = "denied" if item.status == "awaiting" else "error"
                item.live = False
                self.view.touch_item(item)
                self.view.drop_approval(call_id)
        self._tools = {k: v for k, v in self._tools.items() if v.live}
        if event.stop_reason == "interrupted":
            self._say("interrupted", "warning")
        elif event.stop_reason == "max_tokens":
            self._say("the reply hit the output token limit", "warning")
        self.view.set_status(busy=False)

    def error(self, event: ev.ErrorEvent) -> None:
        """An error the user should see, with its hint."""
        hint = f"\nhint: {event.hint}" if event.hint else ""
        self._say(f"{event.message}{hint}", "error")
        self.view.set_status(notice=event.message, notice_level="error")

    def warning(self, event: ev.Warning) -> None:
        """A warning."""
        self._say(event.message, "warning")

    def session_saved(self, event: ev.SessionSaved) -> None:
        """Nothing to show: saving is continuous."""
        del event
