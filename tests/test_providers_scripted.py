"""The scripted provider: script loading, replay through stream events, errors, the demo."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import ConfigError, OverloadedError, StreamError
from arcan_core.protocol.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock
from arcan_core.providers.base import (
    ProviderRequest,
    ProviderSettings,
    RetryNotice,
    StreamEnd,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    ToolSpec,
    UsageReport,
)
from arcan_core.providers.demo import DEMO_FILE, demo_step
from arcan_core.providers.registry import create_provider
from arcan_core.providers.scripted import (
    ScriptedProvider,
    ScriptStep,
    ScriptToolCall,
    load_script,
)
from tests.loopback import RecordingSleep

if TYPE_CHECKING:
    from pathlib import Path


def tools(*names: str) -> tuple[ToolSpec, ...]:
    return tuple(ToolSpec(name=name, description=name, input_schema={}) for name in names)


REQUEST = ProviderRequest(
    model="scripted-demo",
    system="You are a test.",
    messages=(Message(role="user", content=(TextBlock(text="hello there"),)),),
    tools=tools("read", "write", "edit", "bash"),
)


async def collect(provider: ScriptedProvider) -> list[StreamEvent]:
    return [event async for event in provider.stream(REQUEST)]


async def drain(provider: ScriptedProvider, into: list[StreamEvent]) -> None:
    async for event in provider.stream(REQUEST):
        into.append(event)  # noqa: PERF401 - keep the events seen before an error


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextChunk))


def write_script(tmp_path: Path, data: object, name: str = "script.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


async def test_replays_steps_in_order_with_tool_calls(tmp_path: Path) -> None:
    path = write_script(
        tmp_path,
        [
            {
                "thinking": "hmm",
                "text": "I will read it.",
                "tool_calls": [{"name": "read", "args": {"path": "a.py"}, "id": "c1"}],
                "chunk_chars": 4,
            },
            {"text": "done", "usage": {"input_tokens": 10, "output_tokens": 2}},
        ],
    )
    provider = create_provider(ProviderSettings(name="scripted", script_path=str(path)))
    assert isinstance(provider, ScriptedProvider)
    first = await collect(provider)
    assert "".join(e.text for e in first if isinstance(e, ThinkingChunk)) == "hmm"
    assert text_of(first) == "I will read it."
    assert next(e.text for e in first if isinstance(e, TextChunk)) == "I wi"
    begin = next(e for e in first if isinstance(e, ToolCallBegin))
    assert (begin.call_id, begin.name) == ("c1", "read")
    args = "".join(e.fragment for e in first if isinstance(e, ToolCallChunk))
    assert json.loads(args) == {"path": "a.py"}
    assert any(isinstance(e, ToolCallEnd) and e.call_id == "c1" for e in first)
    assert first[-1] == StreamEnd(stop_reason="tool_use")
    usage = next(e for e in first if isinstance(e, UsageReport)).usage
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0

    second = await collect(provider)
    assert text_of(second) == "done"
    assert second[-2] == UsageReport.model_validate(
        {"usage": {"input_tokens": 10, "output_tokens": 2}}
    )
    assert second[-1] == StreamEnd(stop_reason="end_turn")

    with pytest.raises(StreamError, match="no step 3"):
        await collect(provider)


async def test_error_step_streams_partial_text_then_raises(tmp_path: Path) -> None:
    path = write_script(
        tmp_path,
        {"steps": [{"text": "partial", "error": {"type": "overloaded", "message": "busy"}}]},
    )
    provider = ScriptedProvider(ProviderSettings(name="scripted", script_path=str(path)))
    seen: list[StreamEvent] = []
    with pytest.raises(OverloadedError, match="busy"):
        await drain(provider, seen)
    assert text_of(seen) == "partial"


async def test_jsonl_scripts_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "script.jsonl"
    path.write_text(
        '# a comment\n{"text": "one"}\n\n// another\n{"text": "two"}\n', encoding="utf-8"
    )
    script = load_script(path)
    assert [step.text for step in script.steps] == ["one", "two"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"text": 1}]', "0.text"),
        ('{"text": "a"}\n{broken\n', "line 2: invalid JSON"),
        ('[{"bogus": true}]', "bogus"),
    ],
)
def test_bad_scripts_are_config_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_script(path)
    assert info.value.hint


def test_missing_script_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the script"):
        ScriptedProvider(ProviderSettings(name="scripted", script_path=str(tmp_path / "no")))


def demo_request(*messages: Message) -> ProviderRequest:
    return REQUEST.model_copy(update={"messages": (*REQUEST.messages, *messages)})


def after(call: ToolUseBlock, result: str, *, error: bool = False) -> tuple[Message, Message]:
    return (
        Message(role="assistant", content=(call,)),
        Message(
            role="user",
            content=(ToolResultBlock(tool_use_id=call.id, content=result, is_error=error),),
        ),
    )


def only_call(step: ScriptStep) -> ScriptToolCall:
    [call] = step.tool_calls
    return call


def test_demo_reads_first_then_writes_a_missing_file_then_edits() -> None:
    first = demo_step(REQUEST)
    assert only_call(first).name == "read"
    read = ToolUseBlock(id="c1", name="read", input=only_call(first).args)
    missing = demo_step(demo_request(*after(read, "arcan_demo.py does not exist", error=True)))
    write = only_call(missing)
    assert (write.name, write.args["path"]) == ("write", DEMO_FILE)
    written = ToolUseBlock(id="c2", name="write", input=write.args)
    edit = only_call(demo_step(demo_request(*after(written, "Created arcan_demo.py"))))
    assert edit.name == "edit"
    assert edit.args["old"] in write.args["content"]
    done = demo_step(
        demo_request(*after(ToolUseBlock(id="c3", name="edit", input=edit.args), "Edited"))
    )
    assert not done.tool_calls
    assert done.text is not None
    assert "ANTHROPIC_API_KEY" in done.text


def test_demo_edit_flips_the_greeting_each_run() -> None:
    read = ToolUseBlock(id="c1", name="read", input={"path": DEMO_FILE})
    plain = only_call(demo_step(demo_request(*after(read, '  5\treturn "Hello, " + name'))))
    fancy = only_call(demo_step(demo_request(*after(read, '  5\treturn f"Hello, {name}!"'))))
    assert (plain.args["old"], plain.args["new"]) == (fancy.args["new"], fancy.args["old"])
    other = demo_step(demo_request(*after(read, "something else entirely")))
    assert not other.tool_calls


def test_demo_stops_politely_when_a_call_is_refused() -> None:
    write = ToolUseBlock(id="c2", name="write", input={"path": DEMO_FILE})
    step = demo_step(demo_request(*after(write, "denied by the user", error=True)))
    assert not step.tool_calls
    assert step.text is not None
    assert "denied by the user" in step.text


def test_demo_quotes_a_long_denial_whole_words_and_says_how_to_allow_edits() -> None:
    edit = ToolUseBlock(id="c3", name="edit", input={"path": DEMO_FILE})
    reason = (
        "denied: this call needed approval (ask mode asks before edit tools run) and was "
        "refused: this is a headless run and nobody can approve edit; choose another approach, "
        "or the user can rerun with a more permissive --mode"
    )
    step = demo_step(demo_request(*after(edit, reason, error=True)))
    assert step.text is not None
    assert reason in step.text  # not cut at a fixed width in the middle of a word
    assert "--mode auto-edit" in step.text
    endless = demo_step(demo_request(*after(edit, "denied: " + "word " * 200, error=True)))
    assert endless.text is not None
    assert "word word …)" in endless.text
    assert len(endless.text) < 1000


def test_demo_does_not_call_a_tool_the_mode_does_not_offer() -> None:
    read = ToolUseBlock(id="c1", name="read", input={"path": DEMO_FILE})
    plan = demo_request(*after(read, "arcan_demo.py does not exist", error=True))
    step = demo_step(plan.model_copy(update={"tools": tools("read", "glob", "grep")}))
    assert not step.tool_calls
    assert step.text is not None
    assert "`write`" in step.text
    assert "/mode auto-edit" in step.text


def test_demo_answers_a_request_without_tools_with_text_only() -> None:
    # Compaction asks for a summary and offers no tools: a tool call there would be nonsense.
    step = demo_step(REQUEST.model_copy(update={"tools": ()}))
    assert not step.tool_calls
    assert step.text is not None
    assert DEMO_FILE in step.text


def test_demo_starts_over_on_a_new_prompt() -> None:
    read = ToolUseBlock(id="c1", name="read", input={"path": DEMO_FILE})
    prompt = Message(role="user", content=(TextBlock(text="again"),))
    step = demo_step(demo_request(*after(read, "x", error=True), prompt))
    assert only_call(step).name == "read"


def test_demo_end_to_end_with_the_real_tools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from arcan_tui.cli import main  # noqa: PLC0415 - the whole application, only here

    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "home" / name))
    tmp_path = tmp_path / "project"
    tmp_path.mkdir()

    argv = ["exec", "--provider", "scripted", "--mode", "full-auto", "-C", str(tmp_path)]
    assert main([*argv, "show me"]) == 0
    first = (tmp_path / DEMO_FILE).read_text(encoding="utf-8")
    assert 'return f"Hello, {name}!"' in first
    assert main([*argv, "again"]) == 0
    second = (tmp_path / DEMO_FILE).read_text(encoding="utf-8")
    assert 'return "Hello, " + name' in second
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().out


async def test_retryable_error_step_is_retried_like_a_real_provider(tmp_path: Path) -> None:
    path = write_script(
        tmp_path,
        [
            {"error": {"type": "overloaded", "message": "busy", "retry_after_s": 2.5}},
            {"error": {"type": "rate_limit", "message": "slow", "retry_after_s": 0}},
            {"text": "made it"},
        ],
    )
    sleep = RecordingSleep()
    provider = ScriptedProvider(
        ProviderSettings(name="scripted", script_path=str(path)), sleep=sleep
    )
    events = await collect(provider)
    notices = [e for e in events if isinstance(e, RetryNotice)]
    assert [(n.attempt, n.delay_s, n.reason) for n in notices] == [
        (1, 2.5, "overloaded"),
        (2, 0.0, "rate limited"),
    ]
    assert sleep.delays == [2.5, 0.0]
    assert text_of(events) == "made it"
