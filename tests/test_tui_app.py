"""Pilot tests of the TUI against a scripted core: every interaction of the chat screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from arcan_core.protocol.events import (
    ApprovalRequest,
    ErrorEvent,
    EventMsg,
    MessageAppended,
    PromptQueued,
    RetryScheduled,
    SensorReading,
    TextDelta,
    ThinkingDelta,
    ToolCallArgumentsDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallOutput,
    ToolCallStarted,
    ToolDisplay,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.messages import Message, TextBlock, ToolUseBlock, Usage
from arcan_core.protocol.operations import (
    AnswerApproval,
    Compact,
    Interrupt,
    SetHarness,
    SetMode,
    SetModel,
    Shutdown,
    SubmitPrompt,
)
from arcan_core.providers.registry import provider_class
from arcan_tui.bridge import HANDLERS
from arcan_tui.transcript_data import AssistantItem, ThinkingItem, ToolItem, UserItem
from arcan_tui.widgets.approval import GUARD_S
from arcan_tui.widgets.blocks import AssistantBlock, ToolBlock
from tests.tui_support import ScriptedCore, make_app, screen_text, settle, wait_until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from arcan_tui.app import ArcanApp

SIZE = (100, 36)
DIFF = "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"


def approval(call_id: str, command: str = "rm -rf build") -> ToolCallAwaitingApproval:
    return ToolCallAwaitingApproval(
        call_id=call_id,
        name="bash",
        input={"command": command},
        request=ApprovalRequest(
            tool="bash",
            summary=command,
            preview=command,
            preview_kind="command",
            cwd="/project",
            reason="mode ask",
            suggested_pattern="bash(rm *)",
        ),
    )


async def wait_armed(app: ArcanApp, pilot: Pilot[None]) -> None:
    """Wait (on the app's own timer, not a fixed sleep) until the approval guard has passed."""
    panel = app.chat.approvals
    for _ in range(100):
        if panel.armed:
            return
        await pilot.pause(GUARD_S / 5)
    raise AssertionError("the approval panel never armed")


async def test_every_protocol_event_has_a_handler() -> None:
    from typing import get_args  # noqa: PLC0415

    from arcan_core.protocol.events import EventMsg  # noqa: PLC0415

    union = get_args(get_args(EventMsg)[0])
    assert set(union) == set(HANDLERS)


async def test_enter_sends_prompt_and_turn_events_render(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"fix the bug", "enter")
        await pilot.pause()
        assert core.ops == [SubmitPrompt(text="fix the bug")]
        assert app.chat.prompt.text == ""
        core.emit(TurnStarted(turn_id="t1", prompt="fix the bug"))
        core.emit(ThinkingDelta(text="Looking at the code."))
        for word in ["The", "**fix**", "is", "ready.\n\n```python\nx", "=", "1\n```\n"]:
            core.emit(TextDelta(text=word + " "))
        await settle(app, pilot)
        text = screen_text(app)
        assert "fix the bug" in text
        assert "The fix is ready." in text
        assert "x = 1" in text
        assert "working" in text
        core.emit(
            MessageAppended(
                message=Message(
                    role="assistant", content=(TextBlock(text="The **fix** is ready."),)
                )
            ),
            TurnFinished(turn_id="t1", stop_reason="end_turn"),
        )
        await settle(app, pilot)
        assistant = next(i for i in app.chat.transcript.items if isinstance(i, AssistantItem))
        assert not assistant.live
        block = app.chat.transcript.block_for(assistant)
        assert isinstance(block, AssistantBlock)
        assert block.source == assistant.text  # the whole reply is in the widget, none pending
        assert "working" not in screen_text(app)


async def test_stream_writes_are_coalesced(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="go"))
        await settle(app, pilot)
        core.emit(TextDelta(text="a"))
        await settle(app, pilot)
        assistant = next(i for i in app.chat.transcript.items if isinstance(i, AssistantItem))
        block = app.chat.transcript.block_for(assistant)
        assert isinstance(block, AssistantBlock)
        syncs: list[int] = []
        original = block.sync

        async def counting_sync() -> None:
            syncs.append(assistant.version)
            await original()

        block.sync = counting_sync  # type: ignore[method-assign]
        core.emit(*(TextDelta(text=f"word{i} ") for i in range(300)))
        await settle(app, pilot)
        assert assistant.text.endswith("word299 ")
        # 300 deltas arrived within one flush interval: far fewer renders than tokens.
        assert 1 <= len(syncs) <= 5


async def test_thinking_toggle_hides_thinking(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="q"), ThinkingDelta(text="hmm, pondering"))
        await settle(app, pilot)
        assert "pondering" in screen_text(app)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Thinking" not in screen_text(app)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Thinking" in screen_text(app)


async def test_tool_blocks_show_diff_shell_and_listing(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=(100, 60)) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="q"))
        core.emit(ToolCallStarted(call_id="e1", name="edit"))
        core.emit(ToolCallArgumentsDelta(call_id="e1", fragment='{"path": "a.py"}'))
        await settle(app, pilot)
        assert "edit  a.py" in screen_text(app)
        core.emit(
            ToolCallFinished(
                call_id="e1",
                name="edit",
                input={"path": "a.py"},
                result="edited",
                display=ToolDisplay(kind="diff", diff=DIFF),
                duration_s=0.2,
            ),
            ToolCallStarted(call_id="s1", name="bash"),
            ToolCallArgumentsDelta(call_id="s1", fragment='{"command": "make test"}'),
            ToolCallOutput(call_id="s1", chunk="running 3 tests\n"),
        )
        await settle(app, pilot)
        text = screen_text(app)
        assert "+x = 2" in text
        assert "-x = 1" in text
        assert "running 3 tests" in text
        core.emit(
            ToolCallFinished(
                call_id="s1",
                name="bash",
                input={"command": "make test"},
                result="boom",
                is_error=True,
                display=ToolDisplay(kind="shell", stdout="3 passed", stderr="warn", exit_code=2),
            ),
            ToolCallFinished(
                call_id="g1",
                name="grep",
                input={"pattern": "TODO"},
                result="2 matches",
                display=ToolDisplay(kind="listing", items=("a.py:1", "b.py:9")),
            ),
        )
        await settle(app, pilot)
        text = screen_text(app)
        assert "exit code 2" in text
        assert "warn" in text
        grep = next(
            i for i in app.chat.transcript.items if isinstance(i, ToolItem) and i.name == "grep"
        )
        block = app.chat.transcript.block_for(grep)
        assert isinstance(block, ToolBlock)
        assert block._fold.collapsed  # listings start folded
        block._fold.collapsed = False
        await pilot.pause()
        assert "b.py:9" in screen_text(app)


async def test_approval_guard_then_yes(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="clean"), approval("c1"))
        await settle(app, pilot)
        panel = app.chat.approvals
        assert panel.has_focus
        assert "Allow bash: rm -rf build?" in screen_text(app)
        # Type-ahead inside the guard window does not answer.
        await pilot.press("y")
        assert not any(isinstance(op, AnswerApproval) for op in core.ops)
        await wait_armed(app, pilot)
        await pilot.press("y")
        await pilot.pause()
        assert core.ops[-1] == AnswerApproval(call_id="c1", decision="allow", scope="once")
        assert app.chat.prompt.has_focus  # focus returns to the prompt


async def test_approval_always_and_queue(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(approval("c1"), approval("c2", "ls"), approval("c3", "pwd"))
        await settle(app, pilot)
        assert "(1 of 3)" in screen_text(app)
        await wait_armed(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        answer = core.ops[-1]
        assert isinstance(answer, AnswerApproval)
        assert (answer.call_id, answer.decision, answer.scope) == ("c1", "allow", "project")
        assert answer.pattern == "bash(rm *)"
        assert "(1 of 2)" in screen_text(app)
        assert "Allow bash: ls?" in screen_text(app)
        # The guard restarts for each request shown.
        await pilot.press("y")
        assert len([op for op in core.ops if isinstance(op, AnswerApproval)]) == 1
        await wait_armed(app, pilot)
        await pilot.press("y")
        await wait_armed(app, pilot)
        await pilot.press("y")
        await pilot.pause()
        answers = [op for op in core.ops if isinstance(op, AnswerApproval)]
        assert [a.call_id for a in answers] == ["c1", "c2", "c3"]
        assert not app.chat.has_class("-approving")


async def test_deny_with_reason(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(approval("c1"))
        await settle(app, pilot)
        await wait_armed(app, pilot)
        await pilot.press("n", *"use make clean", "enter")
        await pilot.pause()
        assert core.ops[-1] == AnswerApproval(
            call_id="c1", decision="deny", scope="once", reason="use make clean"
        )


async def test_finished_call_drops_its_pending_approval(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="x"), approval("c1"))
        await settle(app, pilot)
        core.emit(TurnFinished(turn_id="t1", stop_reason="interrupted"))
        await settle(app, pilot)
        assert app.chat.approvals.current is None
        assert "interrupted" in screen_text(app)


async def test_escape_interrupts_a_running_turn(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        assert Interrupt() not in core.ops  # nothing runs: nothing to interrupt
        core.emit(TurnStarted(turn_id="t1", prompt="long task"))
        await settle(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert core.ops[-1] == Interrupt()


async def test_prompts_typed_while_busy_show_as_queued(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="first"))
        await settle(app, pilot)
        await pilot.press(*"also check docs", "enter")
        await pilot.pause()
        assert core.ops[-1] == SubmitPrompt(text="also check docs")
        core.emit(PromptQueued(text="also check docs"))
        await settle(app, pilot)
        assert "also check docs (queued)" in screen_text(app)
        core.emit(
            MessageAppended(
                message=Message(role="user", content=(TextBlock(text="also check docs"),))
            )
        )
        await settle(app, pilot)
        queued = [i for i in app.chat.transcript.items if isinstance(i, UserItem) and i.queued]
        assert queued == []
        assert "(queued)" not in screen_text(app)


async def test_status_bar_usage_retry_and_error(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(
            UsageUpdated(
                usage=Usage(input_tokens=50_000, output_tokens=1_200),
                session_usage=Usage(input_tokens=50_000, output_tokens=1_200),
                session_cost_usd=0.1234,
                context_tokens=50_000,
                context_window=200_000,
            ),
            RetryScheduled(attempt=2, delay_s=4, reason="overloaded"),
        )
        await settle(app, pilot)
        status = screen_text(app).splitlines()[-1]
        assert "scripted/demo" in status
        assert "ctx 25%" in status
        assert "↑50.0k ↓1.2k" in status
        assert "$0.12" in status
        assert "retry 2 in 4s: overloaded" in status
        core.emit(ErrorEvent(kind="AuthError", message="key rejected", hint="check the key"))
        await settle(app, pilot)
        text = screen_text(app)
        assert "hint: check the key" in text
        assert "key rejected" in text.splitlines()[-1]


async def test_sensor_panel_toggles_and_updates_live(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(SensorReading(sensor="check:tests", setpoint="exit0", status="running"))
        await settle(app, pilot)
        assert "Sensors" not in screen_text(app)
        await pilot.press("f2")
        await pilot.pause()
        assert "tests (exit0)  running" in screen_text(app)
        core.emit(
            SensorReading(
                sensor="check:tests", setpoint="exit0", status="met", met=True, value="12 passed"
            )
        )
        await settle(app, pilot)
        text = screen_text(app)
        assert "tests (exit0)  met" in text
        assert "12 passed" in text
        await pilot.press("f2")
        await pilot.pause()
        assert "Sensors" not in screen_text(app)


async def test_slash_commands_send_operations(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for line in (
            "/mode auto-edit",
            "/model anthropic:claude-x",
            "/harness off",
            "/compact be brief",
            "/model anthropic",
            "/model openai gpt-x",
            "/model llama3:8b",
        ):
            app.chat.prompt.set_text(line)
            await pilot.press("enter")
            await pilot.pause()
        assert core.ops == [
            SetMode(mode="auto-edit"),
            SetModel(model="claude-x", provider="anthropic"),
            SetHarness(enabled=False),
            Compact(instructions="be brief"),
            # A lone provider name is that provider's default model, not a model called so.
            SetModel(model=provider_class("anthropic").default_model, provider="anthropic"),
            SetModel(model="gpt-x", provider="openai"),
            # A colon whose prefix is no provider belongs to the model's name.
            SetModel(model="llama3:8b", provider=None),
        ]
        app.chat.prompt.set_text("/mode nonsense")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "usage: /mode" in screen_text(app)
        app.chat.prompt.set_text("/nope")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "unknown command /nope" in screen_text(app)


async def test_slash_completion_with_tab(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("/", "t", "h")
        await pilot.pause()
        assert app.chat.menu.is_open
        assert "/theme" in screen_text(app)
        await pilot.press("tab")
        await pilot.pause()
        assert app.chat.prompt.text == "/theme "
        assert not app.chat.menu.is_open


async def test_path_completion_is_fuzzy_and_gitignore_aware(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "parser.py").write_text("x")
    (project / "build").mkdir()
    (project / "build" / "parser.py").write_text("x")
    (project / ".gitignore").write_text("build/\n")
    core = ScriptedCore()
    app = make_app(core, tmp_path, project=project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.chat.path_completer.paths))
        assert app.chat.path_completer.paths == [".gitignore", "src/parser.py"]
        await pilot.press(*"look at @srcpars")
        await pilot.pause()
        assert app.chat.menu.is_open
        await pilot.press("enter")
        await pilot.pause()
        assert app.chat.prompt.text == "look at @src/parser.py "
        assert not core.ops  # Enter accepted the completion; it did not send
        app.chat.prompt.set_text("")
        await pilot.press(*"@build/pars")
        await pilot.pause()
        assert not app.chat.menu.is_open


async def test_history_up_down_per_project(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for prompt in ("one", "two"):
            await pilot.press(*prompt, "enter")
        await pilot.press(*"dra", "up")
        assert app.chat.prompt.text == "two"
        await pilot.press("up")
        assert app.chat.prompt.text == "one"
        await pilot.press("down", "down")
        assert app.chat.prompt.text == "dra"
    # A new app in the same project remembers; another project does not.
    again = make_app(ScriptedCore(), tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("up")
        assert again.chat.prompt.text == "two"
    other = tmp_path / "other"
    other.mkdir()
    elsewhere = make_app(ScriptedCore(), tmp_path, project=other)
    async with elsewhere.run_test(size=SIZE) as pilot:
        await pilot.press("up")
        assert elsewhere.chat.prompt.text == ""


async def test_ctrl_j_inserts_a_newline(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "ctrl+j", "b", "enter")
        await pilot.pause()
        assert core.ops == [SubmitPrompt(text="a\nb")]


async def test_bang_command_runs_and_goes_with_next_prompt(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"!echo hello-from-shell", "enter")
        await wait_until(pilot, lambda: "exit code" in str(app.chat._shell_context))
        await settle(app, pilot)
        assert "hello-from-shell" in screen_text(app)
        assert "exit code 0" in screen_text(app)
        assert not core.ops
        await pilot.press(*"what did it print", "enter")
        await pilot.pause()
        sent = core.ops[-1]
        assert isinstance(sent, SubmitPrompt)
        assert "I ran `echo hello-from-shell` (exit code 0)" in sent.text
        assert sent.text.endswith("what did it print")


async def test_image_attached_by_path(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "shot.png").write_bytes(b"\x89PNG fake")
    core = ScriptedCore()
    app = make_app(core, tmp_path, project=project)
    async with app.run_test(size=SIZE) as pilot:
        app.chat.prompt.set_text("what is in @shot.png")
        await pilot.press("enter")
        await pilot.pause()
        sent = core.ops[-1]
        assert isinstance(sent, SubmitPrompt)
        assert len(sent.images) == 1
        assert sent.images[0].media_type == "image/png"


async def test_export_writes_markdown(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(TurnStarted(turn_id="t1", prompt="hello"), TextDelta(text="Hi **there**"))
        core.emit(TurnFinished(turn_id="t1", stop_reason="end_turn"))
        await settle(app, pilot)
        app.chat.prompt.set_text("/export out.md")
        await pilot.press("enter")
        await pilot.pause()
        text = (app.options.project_dir / "out.md").read_text()
        assert "> hello" in text
        assert "Hi **there**" in text


async def test_init_and_custom_commands_send_prompts(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".arcan" / "commands").mkdir(parents=True)
    (project / ".arcan" / "commands" / "review.md").write_text("# Review\nReview $ARGUMENTS now.")
    core = ScriptedCore()
    app = make_app(core, tmp_path, project=project)
    async with app.run_test(size=SIZE) as pilot:
        app.chat.prompt.set_text("/review src/app.py")
        await pilot.press("enter")
        app.chat.prompt.set_text("/init")
        await pilot.press("enter")
        await pilot.pause()
        first, second = core.ops
        assert first == SubmitPrompt(text="# Review\nReview src/app.py now.")
        assert isinstance(second, SubmitPrompt)
        assert "AGENTS.md" in second.text


async def test_quit_shuts_the_core_down(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.core is core)
        app.chat.prompt.set_text("/quit")
        await pilot.press("enter")
        await pilot.pause()
        await core.closed.wait()
    assert core.ops[-1] == Shutdown()


async def test_ops_sent_before_the_core_connects_are_held(tmp_path: Path) -> None:
    import asyncio  # noqa: PLC0415

    from arcan_tui.app import AppOptions, ArcanApp, Connection, ConnectRequest  # noqa: PLC0415

    core = ScriptedCore()
    gate = asyncio.Event()

    async def slow_connect(request: ConnectRequest) -> Connection:
        del request
        await gate.wait()
        return Connection(core, provider="anthropic", model="m1")

    project = tmp_path / "p"
    project.mkdir()
    app = ArcanApp(slow_connect, AppOptions(project_dir=project, history_root=tmp_path / "h"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"early", "enter")
        await pilot.pause()
        assert "connecting" in screen_text(app)
        assert core.ops == []
        gate.set()
        await wait_until(pilot, lambda: bool(core.ops))
        assert core.ops == [SubmitPrompt(text="early")]
        await pilot.pause()
        assert "anthropic/m1" in screen_text(app)


async def test_resume_replays_records_not_deltas_and_mounts_only_recent(tmp_path: Path) -> None:
    history: list[EventMsg] = []
    for turn in range(40):
        history += [
            TurnStarted(turn_id=f"t{turn}", prompt=f"question {turn}"),
            TextDelta(text="streamed once, must not duplicate"),
            MessageAppended(
                message=Message(
                    role="assistant",
                    content=(
                        TextBlock(text=f"answer {turn}"),
                        ToolUseBlock(id=f"c{turn}", name="read", input={"path": f"f{turn}.py"}),
                    ),
                )
            ),
            ToolCallFinished(call_id=f"c{turn}", name="read", result="ok"),
            TurnFinished(turn_id=f"t{turn}", stop_reason="end_turn"),
        ]
    core = ScriptedCore(history=history)
    app = make_app(core, tmp_path, window=30)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        transcript = app.chat.transcript
        assert len(transcript.items) == 120  # 40 x (prompt, answer, tool)
        assert transcript.mounted_count == 30
        assert not any("must not duplicate" in getattr(i, "text", "") for i in transcript.items)
        tools = [i for i in transcript.items if isinstance(i, ToolItem)]
        assert all(t.status == "done" for t in tools)
        assert "answer 39" in screen_text(app)
        banner = transcript._banner
        assert banner.display
        assert "90 earlier items" in str(banner.render())
        await pilot.press("ctrl+pageup")
        await pilot.pause()
        assert transcript.mounted_count == 50
        transcript.scroll_home(animate=False)
        await pilot.pause()
        await pilot.press("pageup")
        await pilot.pause()
        assert transcript.mounted_count == 70
        # New live output prunes back to the window.
        core.emit(TurnStarted(turn_id="t40", prompt="more"), TextDelta(text="new"))
        await settle(app, pilot)
        assert transcript.mounted_count <= 30


async def test_thinking_and_text_items_are_data_first(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        core.emit(
            TurnStarted(turn_id="t1", prompt="p"), ThinkingDelta(text="a"), TextDelta(text="b")
        )
        await settle(app, pilot)
        kinds = [type(i) for i in app.chat.transcript.items]
        assert kinds == [UserItem, ThinkingItem, AssistantItem]
        thinking = app.chat.transcript.items[1]
        assert isinstance(thinking, ThinkingItem)
        assert not thinking.live  # the reply started: thinking is finished


@pytest.mark.parametrize("debug", [False, True])
async def test_unexpected_worker_error_is_one_line_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, debug: bool
) -> None:
    import logging  # noqa: PLC0415

    from arcan_tui.app import AppOptions, ArcanApp, Connection, ConnectRequest  # noqa: PLC0415

    key = "sk-ant-api03-" + "k" * 30

    async def connect(request: ConnectRequest) -> Connection:
        raise RuntimeError(f"boom with {key}")

    project = tmp_path / "project"
    project.mkdir()
    if debug:  # what --debug does: errors_edge enables arcan's loggers at DEBUG
        caplog.set_level(logging.DEBUG, logger="arcan_tui")
    app = ArcanApp(connect, AppOptions(project_dir=project, history_root=tmp_path / "h"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "internal error" in screen_text(app))
        await app.chat.transcript.flush_now()
        await pilot.pause()
        text = screen_text(app)
        assert app.is_running
        assert "internal error while opening the core: RuntimeError: boom" in text
        assert key not in text
        assert "Traceback" not in text
        failed = [record for record in caplog.records if record.exc_info]
        if debug:
            assert "traceback is in the debug log" in text
            assert failed
            assert failed[0].exc_info is not None
            assert isinstance(failed[0].exc_info[1], RuntimeError)
        else:
            assert "run again with --debug" in text
            assert not failed
    assert app.return_code in (None, 0)


ECHO_SERVER = Path(__file__).parent / "fixtures" / "mcp_echo_server.py"


async def test_mcp_lists_servers_and_tools_in_the_background(tmp_path: Path) -> None:
    import json  # noqa: PLC0415
    import sys  # noqa: PLC0415

    project = tmp_path / "project"
    project.mkdir()
    (project / ".mcp.json").write_text(
        json.dumps(
            {"mcpServers": {"echo": {"command": sys.executable, "args": [str(ECHO_SERVER)]}}}
        ),
        encoding="utf-8",
    )
    core = ScriptedCore()
    app = make_app(core, tmp_path, project=project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.chat.prompt.set_text("/mcp")
        await pilot.press("enter")
        await pilot.pause()
        # The servers start in a worker: the prompt is usable meanwhile.
        assert "asking the project's MCP servers" in screen_text(app)

        def listed() -> bool:
            return "mcp__echo__echo" in screen_text(app)

        for _ in range(300):
            await app.chat.transcript.flush_now()
            if listed():
                break
            await pilot.pause(0.05)
        text = screen_text(app)
        assert "echo  [ready, " in text
        assert "mcp__echo__echo" in text
        assert core.ops == []  # nothing was sent to the model


async def test_mcp_without_servers(tmp_path: Path) -> None:
    core = ScriptedCore()
    app = make_app(core, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.chat.prompt.set_text("/mcp")
        await pilot.press("enter")
        for _ in range(200):
            await app.chat.transcript.flush_now()
            if "no MCP servers configured" in screen_text(app):
                break
            await pilot.pause(0.02)
        assert "no MCP servers configured" in screen_text(app)
