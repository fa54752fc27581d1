"""Conversation repair: make any message list one that every provider accepts.

A session must never get stuck answering each request with a 400 because a crash, an interrupt or
an old bug left the conversation malformed. ``repair`` runs before every request and after a load.
It returns the repaired messages and one note per fix; the caller reports notes as ``Warning``
events. The rules, in order:

1. Empty messages (no content after the other rules) are dropped.
2. A tool result whose call is not in the assistant message just before it is set aside (dropped).
3. A tool call without a result in the next user message gets an "interrupted" error result.
4. Consecutive messages of the same role are merged, so roles alternate (silently: this is
   normal after steering or compaction, and loses nothing).
5. The conversation starts with a user message (a leading assistant message is dropped).

Repair is idempotent: ``repair(repair(m).messages)`` makes no notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from arcan_core.protocol.messages import (
    ContentBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "INTERRUPTED_NOTE",
    "INTERRUPTED_RESULT",
    "IncrementalRepair",
    "Repair",
    "interrupted_results",
    "repair",
    "view_message",
]

INTERRUPTED_RESULT = "The call was interrupted before it finished; its effects are unknown."
INTERRUPTED_NOTE = "[This reply was cut short and is incomplete.]"


def view_message(message: Message) -> Message:
    """Return ``message`` as a provider should receive it.

    An incomplete assistant reply is sent with a note saying it was cut, without unsigned
    thinking (providers refuse thinking they cannot verify).
    """
    if not (message.incomplete and message.role == "assistant"):
        return message
    kept: list[ContentBlock] = [
        block
        for block in message.content
        if not (isinstance(block, ThinkingBlock) and not block.signature and not block.redacted)
    ]
    kept.append(TextBlock(text=INTERRUPTED_NOTE))
    return Message(role="assistant", content=tuple(kept))


@dataclass(frozen=True)
class Repair:
    """The outcome of ``repair``: the fixed conversation and what was fixed."""

    messages: tuple[Message, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """Whether anything was broken (merging same-role neighbours does not count)."""
        return bool(self.notes)


def interrupted_results(calls: Sequence[ToolUseBlock], reason: str) -> list[ToolResultBlock]:
    """Return an error result for each of ``calls`` saying why it has no real result."""
    return [ToolResultBlock(tool_use_id=call.id, content=reason, is_error=True) for call in calls]


def _has_payload(block: ContentBlock) -> bool:
    if isinstance(block, TextBlock):
        return bool(block.text.strip())
    if isinstance(block, ThinkingBlock):
        # Thinking alone is not a reply, but redacted or signed thinking must be kept verbatim.
        return bool(block.thinking or block.redacted)
    return True


def _merge(messages: list[Message]) -> list[Message]:
    merged: list[Message] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            previous = merged[-1]
            # Tool results first: providers require them at the start of a user message.
            blocks = [*previous.content, *message.content]
            if message.role == "user":
                blocks.sort(key=lambda b: 0 if isinstance(b, ToolResultBlock) else 1)
            # Silent: two user messages in a row are normal (a steering prompt after tool
            # results, a prompt after a summary), and merging loses nothing.
            merged[-1] = Message(
                role=message.role,
                content=tuple(blocks),
                incomplete=previous.incomplete or message.incomplete,
            )
        else:
            merged.append(message)
    return merged


def _pair_results(messages: list[Message], notes: list[str]) -> list[Message]:
    out: list[Message] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        index += 1
        if message.role == "user":
            # Results not preceded by their call (the assistant turn before handles its own).
            kept = [b for b in message.content if not isinstance(b, ToolResultBlock)]
            dropped = len(message.content) - len(kept)
            if dropped:
                notes.append(f"set aside {dropped} tool result(s) without their call")
            if kept:
                out.append(message.model_copy(update={"content": tuple(kept)}))
            continue
        out.append(message)
        calls = message.tool_uses()
        following = messages[index] if index < len(messages) else None
        results: list[ToolResultBlock] = []
        rest: list[ContentBlock] = []
        if following is not None and following.role == "user":
            index += 1
            call_ids = {call.id for call in calls}
            seen: set[str] = set()
            for block in following.content:
                if isinstance(block, ToolResultBlock):
                    if block.tool_use_id in call_ids and block.tool_use_id not in seen:
                        seen.add(block.tool_use_id)
                        results.append(block)
                    else:
                        notes.append("set aside a tool result without its call")
                else:
                    rest.append(block)
        answered = {result.tool_use_id for result in results}
        missing = [call for call in calls if call.id not in answered]
        if missing:
            notes.append(f"added an interrupted result for {len(missing)} call(s) without one")
            results.extend(interrupted_results(missing, INTERRUPTED_RESULT))
        # Results in the order of the calls, as providers expect.
        order = {call.id: position for position, call in enumerate(calls)}
        results.sort(key=lambda b: order.get(b.tool_use_id, 0))
        if results or rest:
            out.append(Message(role="user", content=(*results, *rest)))
    return out


def _pass(messages: Sequence[Message], notes: list[str], *, leading: bool) -> list[Message]:
    work: list[Message] = []
    for message in messages:
        if any(_has_payload(block) for block in message.content):
            work.append(message)
        else:
            notes.append(f"dropped an empty {message.role} message")
    while leading and work and work[0].role != "user":
        notes.append("dropped an assistant message that came before any user message")
        work.pop(0)
    work = _merge(work)
    work = _pair_results(work, notes)
    return _merge(work)


def repair(messages: Sequence[Message], *, leading: bool = True) -> Repair:
    """Return ``messages`` made valid for any provider, with a note per fix.

    ``leading=False`` repairs a continuation (the part after a cut), which may start with an
    assistant message.
    """
    notes: list[str] = []
    work = list(messages)
    # A fix can expose another (dropping a stray result can leave an assistant message first),
    # so passes repeat until one changes nothing; each pass only removes or answers, so it ends.
    for _ in range(len(work) + 2):
        fixed = _pass(work, notes, leading=leading)
        if fixed == work:
            break
        work = fixed
    return Repair(messages=tuple(work), notes=tuple(notes))


class IncrementalRepair:
    """``repair`` for a conversation that mostly grows at the end, in time linear in the tail.

    Where a user message is followed by an assistant message, no call, result or merge crosses
    the boundary; if the part before it needs no fix, the repair of the whole is that part
    followed by the repair of the rest (as a continuation). The part before the last such cut is
    repaired once and kept, so each call repairs only the last step or two. The cache is keyed on
    the identity of the first message and of the message before the cut, so compaction or any
    rewrite starts afresh.
    """

    def __init__(self, view: Callable[[Message], Message] | None = None) -> None:
        """Optionally take ``view``, a per-message transform kept with the cache (see ``view``)."""
        self._boundary = 0
        self._prefix: tuple[Message, ...] = ()
        self._prefix_view: tuple[Message, ...] = ()
        self._first: Message | None = None
        self._anchor: Message | None = None
        self._view = view
        self.view: tuple[Message, ...] = ()
        """After a call that found nothing broken: the result with ``view`` applied to each
        message (the prefix's part cached), so a request view costs no more than the repair."""

    def __call__(self, messages: Sequence[Message]) -> Repair:
        """Return what ``repair(messages)`` returns."""
        k = self._boundary
        cached = (
            0 < k < len(messages) and messages[0] is self._first and messages[k - 1] is self._anchor
        )
        prefix: tuple[Message, ...] = self._prefix if cached else ()
        prefix_view: tuple[Message, ...] = self._prefix_view if cached else ()
        if not cached:
            k = 0
        tail = repair(messages[k:], leading=not k)
        if tail.notes:
            self._boundary = 0
            self.view = ()
            return repair(messages) if k else tail
        self.view = prefix_view + self._apply(tail.messages)
        self._advance(messages, k, prefix, prefix_view)
        return Repair(messages=prefix + tail.messages)

    def _apply(self, messages: tuple[Message, ...]) -> tuple[Message, ...]:
        return messages if self._view is None else tuple(map(self._view, messages))

    def _advance(
        self,
        messages: Sequence[Message],
        k: int,
        prefix: tuple[Message, ...],
        prefix_view: tuple[Message, ...],
    ) -> None:
        for j in range(len(messages) - 1, k, -1):
            if messages[j].role == "assistant" and messages[j - 1].role == "user":
                added = repair(messages[k:j], leading=not k).messages
                self._prefix = prefix + added
                self._prefix_view = prefix_view + self._apply(added)
                self._boundary = j
                self._first = messages[0]
                self._anchor = messages[j - 1]
                return
