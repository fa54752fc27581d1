"""The scripted provider: script loading, replay through stream events, errors, the demo."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from arcan_core.errors import ConfigError, OverloadedError, StreamError
from arcan_core.protocol.messages import Message, TextBlock
from arcan_core.providers.base import (
    ProviderRequest,
    ProviderSettings,
    StreamEnd,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    UsageReport,
)
from arcan_core.providers.registry import create_provider
from arcan_core.providers.scripted import DEMO_SCRIPT, ScriptedProvider, load_script

if TYPE_CHECKING:
    from pathlib import Path

REQUEST = ProviderRequest(
    model="scripted-demo",
    system="You are a test.",
    messages=(Message(role="user", content=(TextBlock(text="hello there"),)),),
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


async def test_demo_writes_reads_edits_and_repeats() -> None:
    provider = ScriptedProvider(ProviderSettings(name="scripted"))
    names = []
    for _ in DEMO_SCRIPT.steps:
        events = await collect(provider)
        names += [e.name for e in events if isinstance(e, ToolCallBegin)]
    assert names == ["write", "read", "edit"]
    again = await collect(provider)
    assert [e.name for e in again if isinstance(e, ToolCallBegin)] == ["write"]


def test_demo_edit_matches_the_written_content() -> None:
    write, _, edit = (step.tool_calls[0] for step in DEMO_SCRIPT.steps[:3])
    assert edit.args["old"] in write.args["content"]
    assert edit.args["path"] == write.args["path"]
