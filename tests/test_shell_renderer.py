"""The renderer alone: events in, text out."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from arcan_core.protocol.events import (
    ErrorEvent,
    Event,
    EventMsg,
    MessageAppended,
    TextDelta,
    ThinkingDelta,
    ToolCallArgumentsDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolDisplay,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.messages import Message, TextBlock
from arcan_tui.shell.renderer import Renderer, rows_needed, summarize_arguments
from arcan_tui.shell.style import Palette


def event(msg: EventMsg, *, parent: str | None = None) -> Event:
    return Event(session_id="s", seq=0, ts=datetime.now(UTC), parent_call_id=parent, msg=msg)


def make(*, colour: bool = False, rows: int = 40, **options: int) -> tuple[Renderer, io.StringIO]:
    out = io.StringIO()
    renderer = Renderer(
        out, Palette(colour=colour), rerender=colour, size=lambda: (60, rows), **options
    )
    return renderer, out


def feed(renderer: Renderer, *msgs: EventMsg, history: bool = False) -> None:
    for msg in msgs:
        renderer.handle(event(msg), history=history)


def test_text_streams_as_it_arrives() -> None:
    renderer, out = make()
    feed(renderer, TextDelta(text="Hel"))
    assert out.getvalue() == "Hel"
    feed(renderer, TextDelta(text="lo"), TurnFinished(turn_id="t", stop_reason="end_turn"))
    assert out.getvalue() == "Hello\n"


def test_a_tool_call_prints_a_start_line_and_a_finish_line_with_its_diff() -> None:
    renderer, out = make()
    diff = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    feed(
        renderer,
        TextDelta(text="Editing."),
        ToolCallStarted(call_id="c", name="edit"),
        ToolCallArgumentsDelta(call_id="c", fragment='{"path": "x'),
        ToolCallArgumentsDelta(call_id="c", fragment='.py", "old": "a = 1"}'),
        ToolCallFinished(
            call_id="c",
            name="edit",
            input={"path": "x.py", "old": "a = 1"},
            result="ok",
            display=ToolDisplay(kind="diff", diff=diff),
            duration_s=0.25,
        ),
    )
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["Editing.", "▸ edit x.py", "✓ edit x.py (0.2s)"]
    assert lines[3:] == [f"    {line}" for line in diff.splitlines()]


def test_shell_output_shows_only_its_tail_and_a_failing_exit_code() -> None:
    renderer, out = make(tail_lines=3)
    stdout = "".join(f"line {n}\n" for n in range(10))
    feed(
        renderer,
        ToolCallStarted(call_id="c", name="bash"),
        ToolCallFinished(
            call_id="c",
            name="bash",
            input={"command": "seq 10"},
            result="exit 2",
            is_error=True,
            display=ToolDisplay(kind="shell", stdout=stdout, exit_code=2),
        ),
    )
    text = out.getvalue()
    assert "✗ bash seq 10 — exit 2" in text
    assert "… 7 earlier lines" in text
    assert "line 6" not in text
    assert "    line 7\n    line 8\n    line 9\n    exit 2\n" in text


def test_a_denied_call_says_so() -> None:
    renderer, out = make()
    feed(
        renderer,
        ToolCallFinished(
            call_id="c", name="bash", input={"command": "rm -rf /"}, result="no", denied=True
        ),
    )
    assert out.getvalue() == "⊘ bash rm -rf / — denied\n"


def test_thinking_is_its_own_line_before_the_reply() -> None:
    renderer, out = make()
    feed(renderer, ThinkingDelta(text="hmm"), ThinkingDelta(text="…"), TextDelta(text="Yes."))
    renderer.finish()
    assert out.getvalue() == "thinking: hmm…\nYes.\n"


def test_errors_carry_their_hint() -> None:
    renderer, out = make()
    feed(renderer, ErrorEvent(kind="AuthError", message="no key", hint="set ANTHROPIC_API_KEY"))
    assert out.getvalue() == "error: no key\nhint: set ANTHROPIC_API_KEY\n"


def test_sub_agent_text_is_not_streamed_and_its_calls_are_indented() -> None:
    renderer, out = make()
    renderer.handle(event(TextDelta(text="inner thoughts"), parent="task1"))
    renderer.handle(
        event(
            ToolCallFinished(call_id="c", name="read", input={"path": "a"}, result="x"),
            parent="task1",
        )
    )
    assert out.getvalue() == "  ↳ ✓ read a (0.0s)\n"


def test_history_shows_prompts_and_final_messages_not_deltas() -> None:
    renderer, out = make()
    feed(
        renderer,
        TurnStarted(turn_id="t", prompt="why?"),
        TextDelta(text="Because."),
        MessageAppended(message=Message(role="assistant", content=(TextBlock(text="Because."),))),
        history=True,
    )
    assert out.getvalue() == "> why?\nBecause.\n"


def test_finished_text_is_rerendered_as_markdown_when_it_fits() -> None:
    renderer, out = make(colour=True)
    feed(
        renderer,
        TextDelta(text="# Big\n\nsome `code` here"),
        TurnFinished(turn_id="t", stop_reason="end_turn"),
    )
    text = out.getvalue()
    before, _, after = text.partition("\x1b[3A\r\x1b[J")
    assert before == "# Big\n\nsome `code` here\n"
    assert "Big" in after
    assert "`code`" not in after
    assert "\x1b[" in after


def test_text_taller_than_the_screen_is_left_as_streamed() -> None:
    renderer, out = make(colour=True, rows=5)
    body = "\n".join(f"line {n}" for n in range(8))
    feed(renderer, TextDelta(text=body), TurnFinished(turn_id="t", stop_reason="end_turn"))
    assert out.getvalue().startswith(body + "\n")
    assert "A\r\x1b[J" not in out.getvalue()


def test_colour_off_means_no_escape_codes_at_all() -> None:
    renderer, out = make(colour=False)
    feed(
        renderer,
        TextDelta(text="**hi**"),
        ToolCallFinished(
            call_id="c",
            name="edit",
            input={"path": "x"},
            result="ok",
            display=ToolDisplay(kind="diff", diff="-a\n+b\n"),
        ),
        ErrorEvent(kind="X", message="boom"),
    )
    assert "\x1b" not in out.getvalue()


def test_rows_needed_counts_wrapped_lines() -> None:
    assert rows_needed("abc\n", 10) == 1
    assert rows_needed("a" * 10 + "\n", 10) == 1
    assert rows_needed("a" * 11 + "\n", 10) == 2
    assert rows_needed("a\n\nb\n", 10) == 3
    assert rows_needed("日本語\n", 4) == 2  # wide characters take two cells


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=200),
    st.integers(1, 200),
)
def test_rows_needed_is_at_least_the_line_count(text: str, columns: int) -> None:
    assert rows_needed(text + "\n", columns) >= text.count("\n") + 1


def test_summaries_prefer_the_path_or_command_and_stay_on_one_line() -> None:
    assert summarize_arguments({"path": "a.py", "content": "x"}) == "a.py"
    assert summarize_arguments({"command": "make\ntest"}) == "make ⏎ test"
    assert summarize_arguments({}) == ""
    assert len(summarize_arguments({"command": "x" * 500})) == 80
    assert summarize_arguments({"n": 1}) == '{"n": 1}'


def test_thinking_can_be_hidden() -> None:
    renderer, out = make()
    renderer.show_thinking = False
    feed(renderer, ThinkingDelta(text="hmm"), TextDelta(text="Yes."))
    renderer.finish()
    assert out.getvalue() == "Yes.\n"
