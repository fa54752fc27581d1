"""Approval askers: how a tool call that needs a human's yes reaches one.

``InteractiveAsker`` publishes ``ToolCallAwaitingApproval`` and waits for the ``AnswerApproval``
operation with the same call id, which the core routes to it. ``HeadlessAsker`` has nobody to ask:
it denies at once with a reason the model sees, so a headless run goes on without the call.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from arcan_core.protocol.events import ToolCallAwaitingApproval
from arcan_core.protocol.operations import AnswerApproval

if TYPE_CHECKING:
    from arcan_core.protocol.events import ApprovalRequest, EventMsg
    from arcan_core.tools.base import ApprovalAsker

__all__ = ["HEADLESS_DENIAL", "HeadlessAsker", "InteractiveAsker", "nested_asker"]


class Publish(Protocol):
    """The event bus's ``publish``: a payload, optionally nested under a sub-agent's call."""

    def __call__(self, msg: EventMsg, /, *, parent_call_id: str | None = None) -> object:
        """Publish one payload."""


HEADLESS_DENIAL = "nobody can approve it in a headless run; to allow it, {how}"
"""The refusal clause; the executor puts it after what needed approval and why."""
_NO_HINT = "rerun with a more permissive --mode or add an allow rule"


class HeadlessAsker:
    """Deny every call that needs approval, saying why."""

    def __init__(self) -> None:
        self.denied: list[str] = []
        """Summaries of the denied calls, for the final report."""

    async def __call__(
        self, call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
    ) -> AnswerApproval:
        """Deny at once."""
        del args
        self.denied.append(f"{name}: {request.summary}")
        return AnswerApproval(
            call_id=call_id,
            decision="deny",
            reason=HEADLESS_DENIAL.format(how=request.allow_hint or _NO_HINT),
        )


class InteractiveAsker:
    """Ask through an event and wait for the answering operation."""

    def __init__(self, emit: Publish) -> None:
        self._emit = emit
        self._waiting: dict[str, asyncio.Future[AnswerApproval]] = {}

    @property
    def waiting(self) -> tuple[str, ...]:
        """The call ids waiting for an answer."""
        return tuple(self._waiting)

    async def __call__(
        self, call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
    ) -> AnswerApproval:
        """Publish the request and wait for its answer (cancellable by an interrupt)."""
        return await self.ask(call_id, name, args, request)

    async def ask(
        self,
        call_id: str,
        name: str,
        args: dict[str, Any],
        request: ApprovalRequest,
        *,
        parent_call_id: str | None = None,
    ) -> AnswerApproval:
        """Ask, with the request nested under ``parent_call_id`` when a sub-agent asks."""
        future: asyncio.Future[AnswerApproval] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        try:
            self._emit(
                ToolCallAwaitingApproval(call_id=call_id, name=name, input=args, request=request),
                parent_call_id=parent_call_id,
            )
            return await future
        finally:
            self._waiting.pop(call_id, None)

    def answer(self, answer: AnswerApproval) -> bool:
        """Route an ``AnswerApproval`` to its waiting call; return whether one was waiting."""
        future = self._waiting.get(answer.call_id)
        if future is None or future.done():
            return False
        future.set_result(answer)
        return True


class _NestedAsker:
    """An ``InteractiveAsker`` seen from a sub-agent: its requests carry the parent call's id."""

    def __init__(self, asker: InteractiveAsker, parent_call_id: str) -> None:
        self._asker = asker
        self._parent = parent_call_id

    async def __call__(
        self, call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
    ) -> AnswerApproval:
        """Ask through the session's asker, nested under the parent call."""
        return await self._asker.ask(call_id, name, args, request, parent_call_id=self._parent)


def nested_asker(asker: ApprovalAsker, parent_call_id: str) -> ApprovalAsker:
    """Return the asker a sub-agent started by ``parent_call_id`` uses.

    Front-ends show a sub-agent's events inside its parent call, so its approval requests must
    carry that call's id too; the answer still comes back by the request's own call id.
    A headless asker has nobody to show anything to and is returned as it is.
    """
    if isinstance(asker, InteractiveAsker):
        return _NestedAsker(asker, parent_call_id)
    return asker
