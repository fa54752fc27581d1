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
    from collections.abc import Sequence

__all__ = ["INTERRUPTED_RESULT", "IncrementalRepair", "Repair", "interrupted_results", "repair"]

INTERRUPTED_RESULT = "The call was interrupted before it finished; its effects are unknown."


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


def _pass(messages: Sequence[Message], notes: list[str]) -> list[Message]:
    work: list[Message] = []
    for message in messages:
        if any(_has_payload(block) for block in message.content):
            work.append(message)
        else:
            notes.append(f"dropped an empty {message.role} message")
    while work and work[0].role != "user":
        notes.append("dropped an assistant message that came before any user message")
        work.pop(0)
    work = _merge(work)
    work = _pair_results(work, notes)
    return _merge(work)


def repair(messages: Sequence[Message]) -> Repair:
    """Return ``messages`` made valid for any provider, with a note per fix."""
    notes: list[str] = []
    work = list(messages)
    # A fix can expose another (dropping a stray result can leave an assistant message first),
    # so passes repeat until one changes nothing; each pass only removes or answers, so it ends.
    for _ in range(len(work) + 2):
        fixed = _pass(work, notes)
        if fixed == work:
            break
        work = fixed
    return Repair(messages=tuple(work), notes=tuple(notes))


def _is_prompt(message: Message) -> bool:
    return (
        message.role == "user"
        and not any(isinstance(block, ToolResultBlock) for block in message.content)
        and any(_has_payload(block) for block in message.content)
    )


def _is_final_reply(message: Message) -> bool:
    return (
        message.role == "assistant"
        and not message.tool_uses()
        and any(_has_payload(block) for block in message.content)
    )


class IncrementalRepair:
    """``repair`` for a conversation that mostly grows at the end, in time linear in the tail.

    A prompt that follows a final reply (no tool calls) is a safe cut: no call, result or merge
    crosses it, so the repair of the whole is the repair of the part before it followed by the
    repair of the part after it. The part before the last safe cut is repaired once and kept;
    each call repairs only what came after. The cache is keyed on the identity of the first
    message and of the message before the cut, so compaction or any rewrite starts afresh.
    """

    def __init__(self) -> None:
        self._boundary = 0
        self._prefix: tuple[Message, ...] = ()
        self._first: Message | None = None
        self._anchor: Message | None = None

    def __call__(self, messages: Sequence[Message]) -> Repair:
        """Return what ``repair(messages)`` returns."""
        k = self._boundary
        cached = (
            0 < k < len(messages) and messages[0] is self._first and messages[k - 1] is self._anchor
        )
        prefix: tuple[Message, ...] = self._prefix if cached else ()
        if not cached:
            k = 0
        tail = repair(messages[k:])
        if tail.notes:
            self._boundary = 0
            return repair(messages) if k else tail
        self._advance(messages, k, prefix)
        return Repair(messages=prefix + tail.messages)

    def _advance(self, messages: Sequence[Message], k: int, prefix: tuple[Message, ...]) -> None:
        for j in range(len(messages) - 1, k, -1):
            if _is_prompt(messages[j]) and _is_final_reply(messages[j - 1]):
                self._prefix = prefix + repair(messages[k:j]).messages
                self._boundary = j
                self._first = messages[0]
                self._anchor = messages[j - 1]
                return
