"""Conversation repair and context compaction."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from hypothesis import given
from hypothesis import strategies as st

from arcan_core.agent.compaction import SUMMARY_PREFIX, choose_split
from arcan_core.agent.conversation import IncrementalRepair, repair, view_message
from arcan_core.agent.session import open_core
from arcan_core.protocol.events import ContextCompacted, TurnFinished
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.protocol.messages import (
    Message,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from arcan_core.protocol.operations import Compact, Interrupt, Shutdown, SubmitPrompt
from arcan_core.providers.base import ModelInfo, ProviderRequest, ProviderSettings
from arcan_core.providers.scripted import Script, ScriptedProvider
from arcan_core.store import load_session, rebuild
from tests.agent_support import collect_turn, of_type, options, valid

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from arcan_core.providers.base import StreamEvent


def user(text: str) -> Message:
    return Message(role="user", content=(TextBlock(text=text),))


def assistant(text: str, *calls: str) -> Message:
    blocks: list[Any] = [TextBlock(text=text)] if text else []
    blocks += [ToolUseBlock(id=c, name="read", input={}) for c in calls]
    return Message(role="assistant", content=tuple(blocks))


def results(*ids: str) -> Message:
    return Message(
        role="user", content=tuple(ToolResultBlock(tool_use_id=i, content="r") for i in ids)
    )


def test_repair_answers_dangling_calls() -> None:
    fixed = repair([user("go"), assistant("", "c1", "c2"), results("c1")])
    assert fixed.changed
    assert valid(fixed.messages)
    last = fixed.messages[-1].content
    assert [b.tool_use_id for b in last if isinstance(b, ToolResultBlock)] == ["c1", "c2"]
    assert isinstance(last[1], ToolResultBlock)
    assert last[1].is_error


def test_repair_sets_aside_orphan_results_and_empty_turns() -> None:
    messages = [
        assistant("stray"),
        user("go"),
        Message(role="assistant", content=(TextBlock(text="  "),)),
        results("nobody"),
        user("more"),
    ]
    fixed = repair(messages)
    assert valid(fixed.messages)
    assert [m.text() for m in fixed.messages] == ["gomore"]
    assert any("without their call" in n or "without its call" in n for n in fixed.notes)
    assert any("empty" in n for n in fixed.notes)


def test_valid_conversation_is_untouched() -> None:
    messages = [user("go"), assistant("x", "c1"), results("c1"), assistant("done")]
    fixed = repair(messages)
    assert not fixed.changed
    assert list(fixed.messages) == messages


_message = st.one_of(
    st.builds(user, st.sampled_from(["a", "b", ""])),
    st.builds(
        lambda text, calls: assistant(text, *calls),
        st.sampled_from(["", "x"]),
        st.lists(st.sampled_from(["c1", "c2", "c3"]), max_size=2, unique=True),
    ),
    st.builds(lambda ids: results(*ids), st.lists(st.sampled_from(["c1", "c2", "c3"]), max_size=2)),
)


@given(st.lists(_message, max_size=8))
def test_repair_always_yields_a_valid_conversation(messages: list[Message]) -> None:
    fixed = repair(messages)
    assert valid(fixed.messages)
    # Idempotent: a repaired conversation needs no more repair.
    again = repair(fixed.messages)
    assert not again.changed
    assert again.messages == fixed.messages


_turn = st.one_of(
    st.just([user("q"), assistant("a")]),
    st.just(
        [user("q"), Message(role="assistant", content=(TextBlock(text="cut"),), incomplete=True)]
    ),
    st.just([user("q"), assistant("", "c1"), results("c1"), assistant("done")]),
    st.just([user("q"), assistant("x", "c1", "c2"), results("c2")]),
    st.just([assistant("stray")]),
    st.just([results("c9")]),
    st.just([user("steer")]),
)


@given(st.lists(_turn, max_size=12))
def test_incremental_repair_equals_full_repair_as_the_conversation_grows(
    turns: list[list[Message]],
) -> None:
    incremental = IncrementalRepair(view_message)
    messages: list[Message] = []
    for turn in turns:
        messages += turn
        fast = incremental(messages)
        full = repair(messages)
        assert fast.messages == full.messages
        assert bool(fast.notes) == bool(full.notes)
        if not full.notes:
            assert incremental.view == tuple(map(view_message, full.messages))
        if full.notes:  # the loop keeps a repaired conversation, as it does in the core
            messages = list(full.messages)


def test_split_never_separates_a_call_from_its_result() -> None:
    messages = [
        user("one"),
        assistant("", "c1"),
        results("c1"),
        assistant("", "c2"),
        results("c2"),
        assistant("done"),
        user("two"),
    ]
    for keep in range(0, 200, 5):
        split = choose_split(messages, keep)
        if split:
            kept = messages[split:]
            assert not any(isinstance(b, ToolResultBlock) for b in kept[0].content)


class Recording(ScriptedProvider):
    """The scripted provider, keeping every request; summary requests (no tools) get ``summary``.

    ``summary=None`` plays summary requests from the script like any other step.
    """

    def __init__(self, steps: list[dict[str, Any]], summary: str | None = None) -> None:
        script = Script.model_validate({"steps": steps})
        super().__init__(ProviderSettings(name="scripted"), script=script)
        self.requests: list[ProviderRequest] = []
        self.summary = summary

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        from arcan_core.providers.base import StreamEnd, TextChunk  # noqa: PLC0415

        self.requests.append(request)
        if self.summary is not None and not request.tools:
            yield TextChunk(text=self.summary)
            yield StreamEnd(stop_reason="end_turn")
            return
        async for event in super().stream(request):
            yield event


SMALL = ModelInfo(id="small", provider="scripted", context_window=6000, max_output_tokens=1000)


def _big_turns(count: int) -> list[dict[str, Any]]:
    # No usage given: the scripted model reports an estimate of the real request size.
    return [{"text": f"answer {n} " + "words " * 1000} for n in range(count)]


async def test_auto_compaction_before_the_window_fills(tmp_path: Path) -> None:
    # Answers of ~500 tokens in a 6,000-token window: the context passes the threshold after a
    # few turns, and the request that would overflow is preceded by one summary request.
    turns = [{"text": f"answer {n} " + "words " * 330} for n in range(12)]
    provider = Recording(turns, summary="SUMMARY: goals, decisions, files")
    core = await open_core(options(tmp_path, provider=provider, model_info=SMALL))
    events = core.subscribe()
    compacted: list[ContextCompacted] = []
    for n in range(12):
        core.submit(SubmitPrompt(text=f"question {n}"))
        compacted += of_type(await collect_turn(core, events), ContextCompacted)
    assert compacted
    assert not compacted[0].fallback
    assert compacted[0].tokens_after < compacted[0].tokens_before
    index = next(i for i, r in enumerate(provider.requests) if not r.tools)
    summary_request = provider.requests[index]
    assert "answer 0" in summary_request.messages[0].text()
    assert "Summary so far" not in summary_request.messages[0].text()
    while not provider.requests[index].tools:  # a long history may be folded in chunks
        index += 1
    after = provider.requests[index]
    first = after.messages[0].content[0]
    assert isinstance(first, TextBlock)
    assert first.text == SUMMARY_PREFIX + "SUMMARY: goals, decisions, files"
    # Recent turns are kept verbatim.
    assert after.messages[-1].text().startswith("question ")
    assert any("answer" in m.text() for m in after.messages[1:])
    core.submit(Shutdown())
    await core.wait_closed()
    # Replaying the log gives the compacted conversation; the log keeps the originals.
    log = tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl"
    loaded = load_session(log)
    assert rebuild(loaded.header, loaded.events).messages == core.messages
    assert "answer 0" in log.read_text()


async def test_compact_on_demand_with_instructions(tmp_path: Path) -> None:
    provider = Recording([{"text": "a"}, {"text": "b"}, {"text": "the summary"}])
    core = await open_core(options(tmp_path, provider=provider))
    events = core.subscribe()
    for prompt in ("one", "two"):
        core.submit(SubmitPrompt(text=prompt))
        await collect_turn(core, events)
    core.submit(Compact(instructions="keep the API names"))
    async for event in events:
        if isinstance(event.msg, ContextCompacted):
            break
    assert "keep the API names" in provider.requests[2].messages[0].text()
    assert core.messages[0].text() == SUMMARY_PREFIX + "the summary"
    assert core.messages[-1].text() == "b"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_failed_summary_falls_back_to_dropping(tmp_path: Path) -> None:
    provider = Recording(
        [
            *_big_turns(3),
            {"error": {"type": "overloaded", "message": "busy"}},
            {"text": "still works"},
        ]
    )
    core = await open_core(options(tmp_path, provider=provider, model_info=SMALL))
    events = core.subscribe()
    for n in range(4):
        core.submit(SubmitPrompt(text=f"q{n}"))
        seen = await collect_turn(core, events)
    compacted = of_type(seen, ContextCompacted)
    assert compacted
    assert compacted[0].fallback
    assert "dropped" in compacted[0].summary.text()
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    assert core.messages[-1].text() == "still works"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_oversized_history_is_summarised_in_chunks(tmp_path: Path) -> None:
    # A history far larger than the window (say, a session moved to a smaller model): one
    # summary request may hold about 8,000 tokens, so it is folded in several.
    from arcan_core.agent.compaction import compact  # noqa: PLC0415
    from arcan_core.agent.state import AgentState  # noqa: PLC0415

    tiny = ModelInfo(id="tiny", provider="scripted", context_window=12000, max_output_tokens=1000)
    provider = Recording([], summary="part")
    core = await open_core(options(tmp_path, provider=provider, model_info=tiny))
    assert core._ready is not None
    parts = core._ready.parts
    history: list[Message] = []
    for n in range(10):
        history += [user(f"q{n}"), assistant(f"a{n} " + "word " * 2400)]
    state = AgentState(mode="ask", messages=[*history, user("now")])
    emitted: list[object] = []
    event = await compact(parts, state, emitted.append)
    assert event is not None
    assert not event.fallback
    summary_requests = provider.requests
    assert len(summary_requests) >= 3
    for request in summary_requests:
        size = sum(len(m.model_dump_json()) for m in request.messages) // 4
        assert size < tiny.context_window * 3 // 4
    # Later chunks carry the summary so far, so nothing is summarised without context.
    assert all("Summary so far" in r.messages[0].text() for r in summary_requests[1:])
    assert state.messages[0].text() == SUMMARY_PREFIX + "part"
    assert state.messages[-1].text() == "now"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_context_too_long_compacts_and_retries_once(tmp_path: Path) -> None:
    provider = Recording(
        [
            {"text": "first answer"},
            {"text": "second answer"},
            {"error": {"type": "context_too_long", "message": "prompt is too long"}},
            {"text": "after compaction"},
        ],
        summary="the summary",
    )
    core = await open_core(options(tmp_path, provider=provider))
    events = core.subscribe()
    for prompt in ("one", "two", "three"):
        core.submit(SubmitPrompt(text=prompt))
        seen = await collect_turn(core, events)
    assert of_type(seen, ContextCompacted)
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    assert core.messages[-1].text() == "after compaction"
    core.submit(Shutdown())
    await core.wait_closed()


class BlockingSummary(Recording):
    """Summary requests wait until cancelled: an interrupt lands mid-compaction."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        super().__init__(steps)
        self.summary_started = asyncio.Event()

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        if not request.tools:
            self.summary_started.set()
            await asyncio.Event().wait()  # until the interrupt cancels us
        async for event in super().stream(request):
            yield event


async def test_interrupt_during_compaction_leaves_the_conversation_whole(tmp_path: Path) -> None:
    provider = BlockingSummary([{"text": "a"}, {"text": "b"}, {"text": "after"}])
    core = await open_core(options(tmp_path, provider=provider))
    events = core.subscribe()
    for prompt in ("one", "two"):
        core.submit(SubmitPrompt(text=prompt))
        await collect_turn(core, events)
    before = core.messages
    core.submit(Compact())
    await provider.summary_started.wait()
    # A prompt sent during compaction waits for it; the interrupt cancels the compaction.
    core.submit(SubmitPrompt(text="three"))
    core.submit(Interrupt())
    seen = await collect_turn(core, events)
    warnings = [w.message for w in of_type(seen, WarningEvent)]
    assert "compaction interrupted; nothing was changed" in warnings
    assert not of_type(seen, ContextCompacted)
    assert core.messages[: len(before)] == before
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    assert [m.text() for m in core.messages[-2:]] == ["three", "after"]
    core.submit(Shutdown())
    await core.wait_closed()
