"""The turn loop through the core daemon: tool loops, approvals, interrupts, steering, limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import given
from hypothesis import strategies as st

from arcan_core.agent.session import open_core
from arcan_core.agent.state import TurnLimits
from arcan_core.protocol.events import (
    ErrorEvent,
    MessageAppended,
    PromptQueued,
    RetryScheduled,
    TextDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    UsageUpdated,
)
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.protocol.messages import TextBlock, ToolResultBlock, ToolUseBlock
from arcan_core.protocol.operations import (
    AnswerApproval,
    Interrupt,
    Shutdown,
    SubmitPrompt,
)
from arcan_core.store import load_session, rebuild
from tests.agent_support import FileTools, collect_turn, of_type, options

if TYPE_CHECKING:
    from pathlib import Path


async def test_multi_step_tool_loop_reads_a_real_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("the answer is 42")
    steps = [
        {"text": "Reading.", "tool_calls": [{"name": "read", "args": {"path": "notes.txt"}}]},
        {"text": "The file says the answer is 42."},
    ]
    core = await open_core(options(tmp_path, steps))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="what does notes.txt say?"))
    seen = await collect_turn(core, events)
    finished = of_type(seen, TurnFinished)[0]
    assert finished.stop_reason == "end_turn"
    assert finished.steps == 2
    results = of_type(seen, ToolCallFinished)
    assert [r.result for r in results] == ["the answer is 42"]
    assert "".join(d.text for d in of_type(seen, TextDelta)).endswith("answer is 42.")
    messages = [m.message for m in of_type(seen, MessageAppended)]
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert isinstance(messages[1].content[-1], ToolUseBlock)
    assert messages[1].content[-1].input == {"path": "notes.txt"}
    assert isinstance(messages[2].content[0], ToolResultBlock)
    usage = of_type(seen, UsageUpdated)
    assert len(usage) == 2
    assert usage[-1].session_cost_usd > 0
    assert usage[-1].context_window == 200_000
    core.submit(Shutdown())
    await core.wait_closed()
    # The log holds the same conversation, so a resume rebuilds it exactly.
    loaded = load_session(tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl")
    state = rebuild(loaded.header, loaded.events)
    assert list(state.messages) == messages
    assert not any(isinstance(e.msg, TextDelta) for e in loaded.events)


async def test_parallel_calls_keep_call_order(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).write_text(name.upper())
    calls = [{"name": "read", "args": {"path": n}, "id": f"id_{n}"} for n in ("a", "b", "c")]
    steps = [{"tool_calls": calls}, {"text": "done"}]
    core = await open_core(options(tmp_path, steps))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="read all"))
    seen = await collect_turn(core, events)
    results_msg = [m.message for m in of_type(seen, MessageAppended)][2]
    assert [b.tool_use_id for b in results_msg.content if isinstance(b, ToolResultBlock)] == [
        "id_a",
        "id_b",
        "id_c",
    ]
    assert [b.content for b in results_msg.content if isinstance(b, ToolResultBlock)] == [
        "A",
        "B",
        "C",
    ]
    core.submit(Shutdown())
    await core.wait_closed()


async def test_approval_denied_goes_on(tmp_path: Path) -> None:
    steps = [
        {"tool_calls": [{"name": "write", "args": {"path": "x.txt", "text": "hi"}, "id": "w1"}]},
        {"text": "Understood, I will not write."},
    ]
    core = await open_core(options(tmp_path, steps))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="write x.txt"))
    async for event in events:
        if isinstance(event.msg, ToolCallAwaitingApproval):
            assert event.msg.call_id == "w1"
            core.submit(AnswerApproval(call_id="w1", decision="deny", reason="not now"))
        if isinstance(event.msg, TurnFinished):
            break
    assert not (tmp_path / "x.txt").exists()
    state = core  # the conversation is read through the handle
    result = state.messages[2].content[0]
    assert isinstance(result, ToolResultBlock)
    assert result.is_error
    assert result.content == "not now"
    assert state.messages[-1].text() == "Understood, I will not write."
    core.submit(Shutdown())
    await core.wait_closed()


async def test_approval_allowed_writes(tmp_path: Path) -> None:
    steps = [
        {"tool_calls": [{"name": "write", "args": {"path": "x.txt", "text": "hi"}, "id": "w1"}]},
        {"text": "Written."},
    ]
    core = await open_core(options(tmp_path, steps))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="write x.txt"))
    async for event in events:
        if isinstance(event.msg, ToolCallAwaitingApproval):
            core.submit(AnswerApproval(call_id="w1", decision="allow"))
        if isinstance(event.msg, TurnFinished):
            break
    assert (tmp_path / "x.txt").read_text() == "hi"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_headless_denies_with_reason(tmp_path: Path) -> None:
    steps = [
        {"tool_calls": [{"name": "write", "args": {"path": "x.txt"}, "id": "w1"}]},
        {"text": "ok"},
    ]
    core = await open_core(options(tmp_path, steps, interactive=False))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="write"))
    seen = await collect_turn(core, events)
    finished = of_type(seen, ToolCallFinished)[0]
    assert finished.denied
    assert "headless" in finished.result
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_interrupt_while_streaming_keeps_partial_text(tmp_path: Path) -> None:
    steps = [
        {"text": "x" * 400, "chunk_chars": 4, "chunk_delay_s": 0.01},
        {"text": "second answer"},
    ]
    core = await open_core(options(tmp_path, steps))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    deltas = 0
    async for event in events:
        if isinstance(event.msg, TextDelta):
            deltas += 1
            if deltas == 3:
                core.submit(Interrupt())
        if isinstance(event.msg, TurnFinished):
            assert event.msg.stop_reason == "interrupted"
            break
    state = core  # the conversation is read through the handle
    last = state.messages[-1]
    assert last.role == "assistant"
    assert last.incomplete
    assert last.text().startswith("xxxx")
    assert len(last.text()) < 400
    # The next prompt works and the model is told the reply was cut.
    core.submit(SubmitPrompt(text="again"))
    seen = await collect_turn(core, events)
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    assert state.messages[-1].text() == "second answer"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_interrupt_while_tool_runs_gives_interrupted_result(tmp_path: Path) -> None:
    tools = FileTools(tmp_path)
    steps = [
        {"tool_calls": [{"name": "slow", "id": "s1"}, {"name": "read", "args": {"path": "n"}}]},
        {"text": "after"},
    ]
    (tmp_path / "n").write_text("N")
    core = await open_core(options(tmp_path, steps, tools=tools))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    await tools.started.wait()
    core.submit(Interrupt())
    seen = await collect_turn(core, events)
    assert of_type(seen, TurnFinished)[0].stop_reason == "interrupted"
    state = core  # the conversation is read through the handle
    results = state.messages[-1].content
    assert isinstance(results[0], ToolResultBlock)
    assert results[0].is_error
    assert "nterrupted" in results[0].content
    assert isinstance(results[1], ToolResultBlock)
    assert results[1].content == "N"  # the finished call keeps its real result
    core.submit(Shutdown())
    await core.wait_closed()


async def test_interrupt_while_approval_waits(tmp_path: Path) -> None:
    steps = [{"tool_calls": [{"name": "write", "args": {"path": "y"}, "id": "w"}]}, {"text": "k"}]
    core = await open_core(options(tmp_path, steps))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    async for event in events:
        if isinstance(event.msg, ToolCallAwaitingApproval):
            core.submit(Interrupt())
        if isinstance(event.msg, TurnFinished):
            assert event.msg.stop_reason == "interrupted"
            break
    state = core  # the conversation is read through the handle
    assert isinstance(state.messages[-1].content[0], ToolResultBlock)
    assert not (tmp_path / "y").exists()
    # A late answer to the dead request is reported, not crashed on.
    core.submit(AnswerApproval(call_id="w", decision="allow"))
    async for event in events:
        if isinstance(event.msg, WarningEvent):
            assert "no call w" in event.msg.message
            break
    core.submit(Shutdown())
    await core.wait_closed()


async def test_steering_prompt_reaches_the_next_step(tmp_path: Path) -> None:
    tools = FileTools(tmp_path)
    steps = [{"tool_calls": [{"name": "slow", "id": "s1"}]}, {"text": "steered"}]
    core = await open_core(options(tmp_path, steps, tools=tools))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="start"))
    await tools.started.wait()
    core.submit(SubmitPrompt(text="also check the docs"))
    seen: list[object] = []
    async for event in events:
        seen.append(event.msg)
        if isinstance(event.msg, PromptQueued):
            tools.release.set()
        if isinstance(event.msg, TurnFinished):
            break
    assert any(isinstance(m, PromptQueued) for m in seen)
    state = core  # the conversation is read through the handle
    texts = [m.text() for m in state.messages if m.role == "user"]
    assert "also check the docs" in texts
    # The steering prompt came after the tool results and before the final answer.
    index = next(i for i, m in enumerate(state.messages) if m.text() == "also check the docs")
    assert state.messages[index + 1].text() == "steered"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_step_limit_stops_the_task(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("F")
    step = {"tool_calls": [{"name": "read", "args": {"path": "f"}}]}
    core = await open_core(options(tmp_path, [step] * 5, limits=TurnLimits(max_steps=2)))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="loop"))
    seen = await collect_turn(core, events)
    assert of_type(seen, TurnFinished)[0].steps == 2
    assert any("step limit" in w.message for w in of_type(seen, WarningEvent))
    core.submit(Shutdown())
    await core.wait_closed()


async def test_cost_limit_stops_the_task(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("F")
    step = {
        "tool_calls": [{"name": "read", "args": {"path": "f"}}],
        "usage": {"input_tokens": 100_000, "output_tokens": 1000},
    }
    core = await open_core(
        options(tmp_path, [step] * 5, limits=TurnLimits(max_steps=10, max_cost_usd=0.5))
    )
    events = core.subscribe()
    core.submit(SubmitPrompt(text="loop"))
    seen = await collect_turn(core, events)
    # 0.315 USD a step: the second step passes the limit.
    assert of_type(seen, TurnFinished)[0].steps == 2
    assert any("cost limit" in w.message for w in of_type(seen, WarningEvent))
    core.submit(Shutdown())
    await core.wait_closed()


async def test_provider_error_keeps_partial_text_and_next_prompt_works(tmp_path: Path) -> None:
    steps = [
        {"text": "partial", "error": {"type": "overloaded", "message": "Overloaded"}},
        {"text": "recovered"},
    ]
    core = await open_core(options(tmp_path, steps))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    seen = await collect_turn(core, events)
    error = of_type(seen, ErrorEvent)[0]
    assert error.kind == "OverloadedError"
    assert of_type(seen, TurnFinished)[0].stop_reason == "error"
    state = core  # the conversation is read through the handle
    assert state.messages[-1].incomplete
    assert state.messages[-1].text() == "partial"
    core.submit(SubmitPrompt(text="again"))
    seen = await collect_turn(core, events)
    assert state.messages[-1].text() == "recovered"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_unparsable_arguments_become_a_tool_error(tmp_path: Path) -> None:
    from arcan_core.providers.base import (  # noqa: PLC0415
        Provider,
        ProviderRequest,
        ProviderSettings,
        StreamEnd,
        TextChunk,
        ToolCallBegin,
        ToolCallChunk,
        ToolCallEnd,
    )

    class BrokenArgs(Provider):
        name = "broken"
        default_model = "broken"
        step = 0

        async def stream(self, request: ProviderRequest):  # type: ignore[no-untyped-def]
            self.step += 1
            if self.step == 1:
                yield ToolCallBegin(call_id="c1", name="read")
                yield ToolCallChunk(call_id="c1", fragment='{"path": ')
                yield ToolCallEnd(call_id="c1")
                yield StreamEnd(stop_reason="tool_use")
            else:
                yield TextChunk(text="fixed")
                yield StreamEnd(stop_reason="end_turn")

        async def list_models(self) -> list[str]:
            return []

    opts = options(tmp_path, provider=BrokenArgs(ProviderSettings(name="broken")))
    core = await open_core(opts)
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    seen = await collect_turn(core, events)
    assert of_type(seen, ToolCallStarted)[0].name == "read"
    result = of_type(seen, ToolCallFinished)[0]
    assert result.is_error
    assert "JSON" in result.result
    assert of_type(seen, TurnFinished)[0].stop_reason == "end_turn"
    state = core  # the conversation is read through the handle
    assert state.messages[1].tool_uses()[0].input == {}
    assert isinstance(state.messages[-1].content[0], TextBlock)
    core.submit(Shutdown())
    await core.wait_closed()


async def test_retry_notice_becomes_retry_scheduled(tmp_path: Path) -> None:
    from arcan_core.providers.base import (  # noqa: PLC0415
        Provider,
        ProviderRequest,
        ProviderSettings,
        RetryNotice,
        StreamEnd,
        TextChunk,
    )

    class Flaky(Provider):
        name = "flaky"
        default_model = "flaky"

        async def stream(self, request: ProviderRequest):  # type: ignore[no-untyped-def]
            yield RetryNotice(attempt=1, delay_s=0.5, reason="429 rate limited")
            yield TextChunk(text="ok")
            yield StreamEnd(stop_reason="end_turn")

        async def list_models(self) -> list[str]:
            return []

    core = await open_core(options(tmp_path, provider=Flaky(ProviderSettings(name="flaky"))))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    seen = await collect_turn(core, events)
    retry = of_type(seen, RetryScheduled)[0]
    assert retry.attempt == 1
    assert retry.reason == "429 rate limited"
    core.submit(Shutdown())
    await core.wait_closed()


async def test_shutdown_while_a_tool_runs_closes_the_task_and_the_log(tmp_path: Path) -> None:
    tools = FileTools(tmp_path)
    steps = [{"tool_calls": [{"name": "slow", "id": "s1"}]}, {"text": "never"}]
    core = await open_core(options(tmp_path, steps, tools=tools))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="go"))
    await tools.started.wait()
    core.submit(Shutdown())
    seen = [event async for event in events]  # ends when the core has closed
    await core.wait_closed()
    assert of_type(seen, TurnFinished)[0].stop_reason == "interrupted"
    loaded = load_session(tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl")
    state = rebuild(loaded.header, loaded.events)
    assert state.open_turn is None
    assert isinstance(state.messages[-1].content[0], ToolResultBlock)


async def test_set_model_is_recorded_and_bad_names_are_reported(tmp_path: Path) -> None:
    from arcan_core.protocol.events import ModelChanged  # noqa: PLC0415
    from arcan_core.protocol.operations import SetModel  # noqa: PLC0415

    core = await open_core(options(tmp_path, [{"text": "x"}]))
    events = core.subscribe()
    core.submit(SetModel(model="scripted-demo-2"))
    core.submit(SetModel(model="whatever", provider="no-such-provider"))
    seen: list[object] = []
    async for event in events:
        seen.append(event.msg)
        if isinstance(event.msg, ErrorEvent):
            break
    changed = [m for m in seen if isinstance(m, ModelChanged)]
    assert changed[0].model == "scripted-demo-2"
    error = seen[-1]
    assert isinstance(error, ErrorEvent)
    assert "no-such-provider" in error.message
    # The log is created at the first task; the change made before it is written then too.
    core.submit(SubmitPrompt(text="hi"))
    await collect_turn(core, events)
    core.submit(Shutdown())
    await core.wait_closed()
    loaded = load_session(tmp_path / ".arcan" / "sessions" / f"{core.session_id}.jsonl")
    assert rebuild(loaded.header, loaded.events).model == "scripted-demo-2"


_pieces = st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4)
_segment = st.one_of(
    st.tuples(st.just("text"), _pieces),
    st.tuples(st.just("thinking"), _pieces),
    st.tuples(st.just("call"), st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=2)),
)


@given(st.lists(_segment, max_size=6))
def test_stream_assembly_keeps_order_text_and_arguments(segments: list[tuple[str, Any]]) -> None:
    import json  # noqa: PLC0415

    from arcan_core.agent.loop import _Partial  # noqa: PLC0415
    from arcan_core.protocol.messages import ThinkingBlock  # noqa: PLC0415
    from arcan_core.providers.base import ThinkingChunk  # noqa: PLC0415

    partial = _Partial()
    expected: list[tuple[str, Any]] = []
    for number, (kind, value) in enumerate(segments):
        if kind == "call":
            call_id = f"c{number}"
            partial.begin_call(call_id, "read")
            raw = json.dumps(value)
            for start in range(0, len(raw), 3):  # arguments arrive in fragments
                partial.calls[call_id].arguments.append(raw[start : start + 3])
            expected.append(("tool_use", value))
            continue
        for piece in value:
            if kind == "text":
                partial.add_text(piece)
            else:
                partial.add_thinking(ThinkingChunk(text=piece))
        if kind == "thinking":
            partial.add_thinking(ThinkingChunk(signature=f"sig{number}"))
        # Consecutive segments of one kind join into one block.
        if expected and expected[-1][0] == kind and kind == "text":
            expected[-1] = (kind, expected[-1][1] + "".join(value))
        else:
            expected.append((kind, "".join(value)))
    message, requests = partial.message(complete=True)
    if not segments:
        assert message is None
        return
    assert message is not None
    got: list[tuple[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            got.append(("text", block.text))
        elif isinstance(block, ThinkingBlock):
            got.append(("thinking", block.thinking))
            assert block.signature is not None
        elif isinstance(block, ToolUseBlock):
            got.append(("tool_use", block.input))
    assert got == expected
    assert [r.call_id for r in requests] == [b.id for b in message.tool_uses()]
