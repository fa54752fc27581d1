"""Context compaction: replace older turns by a model-written summary, keeping recent turns.

The summary request cannot wedge a session: the transcript to summarise is measured before it is
sent and folded chunk by chunk when it would not fit; a failed or empty summary falls back to
dropping the oldest messages with a note saying so. The log keeps every original message; only the
in-memory conversation (and so the model's context) shrinks, announced by ``ContextCompacted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.agent.state import estimate_tokens, message_tokens
from arcan_core.errors import ProviderError
from arcan_core.protocol.events import ContextCompacted, EventMsg, UsageUpdated
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.protocol.messages import (
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from arcan_core.providers.base import ProviderRequest, TextChunk, UsageReport

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from arcan_core.agent.state import AgentParts, AgentState

__all__ = ["SUMMARY_PREFIX", "choose_split", "compact", "render_transcript"]

SUMMARY_PREFIX = "Summary of the earlier part of this session (older messages were compacted):\n\n"

SUMMARY_SYSTEM = (
    "You compact the history of a coding-agent session so the work can go on with a short "
    "context. Write a faithful, dense summary in Markdown with these sections: Goals (what the "
    "user asked for, verbatim where short), Decisions (what was decided and why), Files (every "
    "file read, created or changed, with what changed), State (what works, test results), Open "
    "problems (errors, unanswered questions, next steps). Keep exact names, paths, commands and "
    "error messages. Do not invent anything. Answer with the summary only."
)

KEEP_SHARE = 0.25
"""Share of the window kept verbatim as recent turns."""

CHUNK_SHARE = 0.75
"""Largest share of the window one summary request may fill (its reply reserved besides).

Compaction starts when the context passes 85% of the usable window and keeps 25% verbatim, so
the older part is about 60% of the window: it fits one request, and only an oversized history
(a resumed session on a smaller model, huge tool results) is folded in chunks."""

_RESULT_CHARS = 2000


def _valid_split(messages: Sequence[Message], index: int) -> bool:
    """A split may start the kept part at an assistant message or a plain user message."""
    message = messages[index]
    if message.role == "assistant":
        return True
    return not any(isinstance(block, ToolResultBlock) for block in message.content)


def choose_split(messages: Sequence[Message], keep_tokens: int) -> int:
    """Return how many leading messages to compact (0: nothing can be compacted).

    The recent messages that fit in ``keep_tokens`` are kept; the split never separates a tool
    call from its result.
    """
    kept = 0
    target = len(messages)
    for index in range(len(messages) - 1, -1, -1):
        kept += message_tokens(messages[index])
        if kept > keep_tokens:
            break
        target = index
    # Keep at least the last message (the current prompt or results) verbatim.
    target = min(max(target, 1), len(messages) - 1)
    for index in range(target, 0, -1):
        if _valid_split(messages, index):
            return index
    return 0


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters omitted ...]\n{text[-half:]}"


def _render_block(block: object) -> str:
    match block:
        case TextBlock(text=text):
            return text
        case ThinkingBlock(thinking=thinking):
            return f"(thinking) {_clip(thinking, _RESULT_CHARS)}" if thinking else ""
        case ToolUseBlock(name=name, input=args):
            return f"(tool call {name}) {_clip(str(args), _RESULT_CHARS)}"
        case ToolResultBlock(content=content, is_error=is_error):
            label = "tool error" if is_error else "tool result"
            return f"({label}) {_clip(content, _RESULT_CHARS)}"
        case ImageBlock():
            return "(image)"
    return ""


def render_transcript(messages: Sequence[Message]) -> list[str]:
    """Render each message as one plain-text entry for the summariser."""
    entries = []
    for message in messages:
        body = "\n".join(part for part in map(_render_block, message.content) if part)
        marker = " (incomplete)" if message.incomplete else ""
        entries.append(f"## {message.role}{marker}\n{body}")
    return entries


def _chunks(entries: Sequence[str], budget_tokens: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for entry in entries:
        clipped = _clip(entry, budget_tokens * 4)
        cost = estimate_tokens(clipped)
        if current and size + cost > budget_tokens:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        current.append(clipped)
        size += cost
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _summary_output(parts: AgentParts) -> int:
    return min(parts.model.max_output_tokens, 4096)


async def _summarise_chunk(
    parts: AgentParts, previous: str, chunk: str, instructions: str | None
) -> tuple[str, Usage]:
    request_text = ""
    if previous:
        request_text += f"Summary so far:\n\n{previous}\n\nThe conversation continues:\n\n"
    request_text += chunk
    if instructions:
        request_text += f"\n\nThe user's instructions for this summary: {instructions}"
    request = ProviderRequest(
        model=parts.model.id,
        system=SUMMARY_SYSTEM,
        messages=(Message(role="user", content=(TextBlock(text=request_text),)),),
        max_output_tokens=_summary_output(parts),
    )
    text: list[str] = []
    usage = Usage()
    async for event in parts.provider.stream(request):
        if isinstance(event, TextChunk):
            text.append(event.text)
        elif isinstance(event, UsageReport):
            usage = event.usage
    return "".join(text).strip(), usage


async def summarise(
    parts: AgentParts, messages: Sequence[Message], instructions: str | None
) -> tuple[str, Usage]:
    """Summarise ``messages`` with the session's model, folding chunks that would not fit."""
    window = parts.model.context_window
    budget = max(int(window * CHUNK_SHARE) - _summary_output(parts), 1024)
    summary = ""
    total = Usage()
    for chunk in _chunks(render_transcript(messages), budget):
        summary, usage = await _summarise_chunk(parts, summary, chunk, instructions)
        total = total + usage
        if not summary:
            break
    return summary, total


async def compact(
    parts: AgentParts,
    state: AgentState,
    emit: Callable[[EventMsg], object],
    *,
    instructions: str | None = None,
) -> ContextCompacted | None:
    """Compact the older part of ``state.messages`` in place and announce it.

    Returns the event, or ``None`` when there was nothing to compact.
    """
    messages = state.messages
    keep = int(parts.model.context_window * KEEP_SHARE)
    split = choose_split(messages, keep)
    if split == 0:
        emit(WarningEvent(message="nothing to compact yet: the conversation is all recent turns"))
        return None
    older = messages[:split]
    tokens_before = sum(message_tokens(m) for m in messages)
    fallback = False
    try:
        text, usage = await summarise(parts, older, instructions)
    except ProviderError as error:
        emit(
            WarningEvent(
                message=f"the summary request failed ({error.message}); dropping old turns"
            )
        )
        text, usage = "", Usage()
    if usage != Usage():
        cost = parts.model.cost_usd(usage)
        state.session_usage = state.session_usage + usage
        state.session_cost_usd += cost
        emit(
            UsageUpdated(
                usage=usage,
                session_usage=state.session_usage,
                cost_usd=cost,
                session_cost_usd=state.session_cost_usd,
                context_tokens=state.last_context_tokens,
                context_window=parts.model.context_window,
            )
        )
    if text:
        body = SUMMARY_PREFIX + text
    else:
        fallback = True
        body = (
            f"[{split} earlier messages were dropped to fit the context window; "
            "no summary of them is available. Ask the user if something from before is needed.]"
        )
    summary = Message(role="user", content=(TextBlock(text=body),))
    messages[:split] = [summary]
    state.last_context_tokens = 0
    state.messages_at_last_request = 0
    event = ContextCompacted(
        summary=summary,
        replaced=split,
        tokens_before=tokens_before,
        tokens_after=sum(message_tokens(m) for m in messages),
        fallback=fallback,
    )
    emit(event)
    return event
