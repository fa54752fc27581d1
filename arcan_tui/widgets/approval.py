"""The inline approval panel: answers the core's approval requests one at a time, keyboard first.

Requests queue in arrival order and the panel shows "1 of 3". When a request appears the panel
takes focus and ignores keys for ``GUARD_S`` seconds (a timer arms it, measured from when that
request is shown), so text typed ahead into the prompt cannot answer a request the user has not
seen. ``y`` approves once, ``a`` approves always (saved to the project's permissions), ``n``
denies and offers an optional reason that goes to the model. Once the queue is empty the panel
hides itself and posts ``Drained`` so the screen gives focus back to the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from arcan_tui.widgets.render import clip_lines, render_diff

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.timer import Timer

    # Annotations only (dataclass fields are not evaluated): the protocol loads after paint.
    from arcan_core.protocol.events import ApprovalRequest  # noqa: TC004
    from arcan_core.protocol.operations import ApprovalDecision, ApprovalScope  # noqa: TC004


__all__ = ["ApprovalPanel", "PendingApproval"]

GUARD_S = 0.3
"""Seconds after a request appears during which keys are ignored."""

PREVIEW_LINES = 12


@dataclass(frozen=True)
class PendingApproval:
    """One request waiting for the user."""

    call_id: str
    name: str
    request: ApprovalRequest


class ApprovalPanel(Vertical, can_focus=True):
    """Shows the head of the approval queue and turns keys into answers."""

    DEFAULT_CSS = """
    ApprovalPanel {
        height: auto; max-height: 60%; display: none; padding: 0 1;
        border: round $accent; background: $surface;
    }
    ApprovalPanel.-active { display: block; }
    ApprovalPanel:focus-within { border: round $accent-lighten-1; }
    ApprovalPanel > #approval-title { text-style: bold; }
    ApprovalPanel > #approval-keys { color: $text-muted; }
    ApprovalPanel.-armed > #approval-keys { color: $text; }
    ApprovalPanel > Input { display: none; }
    ApprovalPanel.-reason > Input { display: block; }
    """

    KEYS_HELP: ClassVar[str] = "y approve once · a always (project) · n deny"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "approve_once", "approve once", show=False),
        Binding("a", "approve_always", "approve always", show=False),
        Binding("n", "deny", "deny", show=False),
        Binding("escape", "cancel_reason", "back", show=False),
    ]

    ANSWER_ACTIONS: ClassVar[frozenset[str]] = frozenset({"approve_once", "approve_always", "deny"})

    @dataclass
    class Answered(Message):
        """The user answered a request."""

        call_id: str
        decision: ApprovalDecision
        scope: ApprovalScope
        pattern: str | None
        reason: str | None

    class Drained(Message):
        """No request is left; the prompt may have focus back."""

    class Arrived(Message):
        """A request was shown to the user (for bell and title)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.queue: list[PendingApproval] = []
        self.armed = False
        self._guard: Timer | None = None
        self._title = Static(id="approval-title", markup=False)
        self._preview = Static(id="approval-preview", markup=False)
        self._reason_line = Static(id="approval-reason", markup=False)
        self._keys = Static(self.KEYS_HELP, id="approval-keys", markup=False)
        self._reason = Input(placeholder="reason for the model (optional), Enter to deny")

    def compose(self) -> ComposeResult:
        """Title, preview, why it asks, the keys, and the reason input for a denial."""
        yield self._title
        yield self._preview
        yield self._reason_line
        yield self._keys
        yield self._reason

    @property
    def current(self) -> PendingApproval | None:
        """The request being shown."""
        return self.queue[0] if self.queue else None

    def push(self, pending: PendingApproval) -> None:
        """Queue a request; shows it at once if it is the only one."""
        self.queue.append(pending)
        if len(self.queue) == 1:
            self._show()
        else:
            self._render_title()

    def discard(self, call_id: str) -> None:
        """Forget a request the core no longer waits for (the turn was interrupted)."""
        was_current = self.current is not None and self.current.call_id == call_id
        self.queue = [p for p in self.queue if p.call_id != call_id]
        if was_current:
            self._advance()
        else:
            self._render_title()

    def _render_title(self) -> None:
        pending = self.current
        if pending is None:
            return
        count = f"  ({1} of {len(self.queue)})" if len(self.queue) > 1 else ""
        self._title.update(f"Allow {pending.name}: {pending.request.summary}?{count}")

    def _show(self) -> None:
        pending = self.current
        if pending is None:
            return
        request = pending.request
        self._render_title()
        if request.preview_kind == "diff":
            self._preview.update(render_diff(request.preview, limit=PREVIEW_LINES))
        else:
            lines, hidden = clip_lines(request.preview, PREVIEW_LINES)
            more = f"\n… {hidden} more lines (see the tool block)" if hidden else ""
            self._preview.update(Content("\n".join(lines) + more))
        self._reason_line.update(f"{request.reason}  ·  in {request.cwd}")
        self._keys.update(self._keys_help(request))
        self.remove_class("-reason")
        self.add_class("-active")
        self.armed = False
        self.remove_class("-armed")
        if self._guard is not None:
            self._guard.stop()
        # A timer, not a sleep: the guard is measured from this moment, for this request only.
        self._guard = self.set_timer(GUARD_S, self._arm)
        self.focus()
        self.post_message(self.Arrived())

    def _keys_help(self, request: ApprovalRequest) -> str:
        always = self._always_scope(request)
        label = {"project": "always (project)", "session": "always (session)"}.get(
            always or "", "always"
        )
        return self.KEYS_HELP.replace("always (project)", label) if always else "y approve · n deny"

    @staticmethod
    def _always_scope(request: ApprovalRequest) -> ApprovalScope | None:
        for scope in ("project", "pattern", "session"):
            if scope in request.scopes:
                return scope
        return None

    def _arm(self) -> None:
        self._guard = None
        self.armed = True
        self.add_class("-armed")

    def _answer(
        self, decision: ApprovalDecision, scope: ApprovalScope, reason: str | None = None
    ) -> None:
        pending = self.current
        if pending is None:
            return
        pattern = pending.request.suggested_pattern if scope in ("project", "pattern") else None
        self.post_message(self.Answered(pending.call_id, decision, scope, pattern, reason))
        self.queue.pop(0)
        self._advance()

    def _advance(self) -> None:
        if self.queue:
            self._show()
            return
        self.remove_class("-active")
        self.remove_class("-reason")
        self.armed = False
        self.post_message(self.Drained())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Answer keys work only once the guard has passed, and not while typing a reason."""
        if action in self.ANSWER_ACTIONS:
            return self.armed and self.current is not None and not self.has_class("-reason")
        if action == "cancel_reason":
            # Otherwise Escape goes on to the screen, which interrupts the turn.
            return self.has_class("-reason")
        return True

    def action_approve_once(self) -> None:
        """Approve this call only."""
        self._answer("allow", "once")

    def action_approve_always(self) -> None:
        """Approve this call and remember the answer (project scope where offered)."""
        pending = self.current
        if pending is not None and (scope := self._always_scope(pending.request)) is not None:
            self._answer("allow", scope)

    def action_deny(self) -> None:
        """Open the reason input; Enter denies."""
        self.add_class("-reason")
        self._reason.value = ""
        self._reason.focus()

    def action_cancel_reason(self) -> None:
        """Leave the reason input without answering."""
        self.cancel_reason()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Deny with the typed reason (empty means none)."""
        event.stop()
        reason = event.value.strip() or None
        self.remove_class("-reason")
        self._answer("deny", "once", reason)

    def cancel_reason(self) -> bool:
        """Leave the reason input without answering; return whether it was open."""
        if not self.has_class("-reason"):
            return False
        self.remove_class("-reason")
        self.focus()
        return True
