"""The line-mode shell driven in-process: prompt-toolkit pipe input, a dummy prompt output.

The core is a small in-memory ``CoreHandle`` whose reactions to operations each test scripts; the
transcript is a ``StringIO`` that wakes the test when an expected text appears (no polling sleeps).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from arcan_core.errors import SessionNotFoundError
from arcan_core.protocol.events import (
    ApprovalRequest,
    ContextCompacted,
    Event,
    EventMsg,
    FilesRestored,
    HarnessToggled,
    MessageAppended,
    ModeChanged,
    ModelChanged,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallStarted,
    ToolDisplay,
    TurnFinished,
    TurnStarted,
    UsageUpdated,
)
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.protocol.messages import Message, TextBlock, Usage
from arcan_core.protocol.operations import (
    AnswerApproval,
    Compact,
    Interrupt,
    Operation,
    SetHarness,
    SetMode,
    SetModel,
    Shutdown,
    SubmitPrompt,
    Undo,
)
from arcan_tui.shell.host import OpenedCore, OpenRequest, SessionInfo
from arcan_tui.shell.session import ShellSession

if TYPE_CHECKING:
    from pathlib import Path

DEADLINE_S = 10.0

Reaction = Callable[["FakeCore", Any], None]


class FakeCore:
    """An in-memory ``CoreHandle``: records operations, reacts as scripted, fans events out."""

    def __init__(
        self,
        session_id: str = "s1",
        reactions: dict[str, Reaction] | None = None,
        past: Sequence[EventMsg] = (),
    ) -> None:
        self._id = session_id
        self.reactions = dict(DEFAULT_REACTIONS)
        self.reactions.update(reactions or {})
        self.ops: list[Operation] = []
        self._log: list[Event] = []
        self._subscribers: list[asyncio.Queue[Event | None]] = []
        self._closed = asyncio.Event()
        long_ago = datetime.now(UTC) - timedelta(days=1)
        for msg in past:
            self.emit(msg, ts=long_ago)

    @property
    def session_id(self) -> str:
        return self._id

    def emit(self, msg: EventMsg, *, ts: datetime | None = None, parent: str | None = None) -> None:
        event = Event(
            session_id=self._id,
            seq=len(self._log),
            ts=ts or datetime.now(UTC),
            parent_call_id=parent,
            msg=msg,
        )
        self._log.append(event)
        for queue in self._subscribers:
            queue.put_nowait(event)

    def submit(self, op: Operation) -> str:
        self.ops.append(op)
        reaction = self.reactions.get(op.op)
        if reaction is not None:
            reaction(self, op)
        return f"sub-{len(self.ops)}"

    def close(self) -> None:
        for queue in self._subscribers:
            queue.put_nowait(None)
        self._closed.set()

    def subscribe(self, *, replay: bool = False) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        if replay:
            for event in self._log:
                queue.put_nowait(event)
        if self._closed.is_set():
            queue.put_nowait(None)
        self._subscribers.append(queue)

        async def events() -> AsyncIterator[Event]:
            while (event := await queue.get()) is not None:
                yield event

        return events()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def ops_of(self, kind: type[Any]) -> list[Any]:
        return [op for op in self.ops if isinstance(op, kind)]


def reply(core: FakeCore, text: str, *, chunks: int = 3, turn: str = "t1") -> None:
    """Emit a whole streamed turn that answers with ``text``."""
    core.emit(TurnStarted(turn_id=turn, prompt="?"))
    step = max(1, len(text) // chunks)
    for start in range(0, len(text), step):
        core.emit(TextDelta(text=text[start : start + step]))
    core.emit(MessageAppended(message=Message(role="assistant", content=(TextBlock(text=text),))))
    core.emit(
        UsageUpdated(
            usage=Usage(input_tokens=100, output_tokens=20),
            session_usage=Usage(input_tokens=100, output_tokens=20),
            cost_usd=0.01,
            session_cost_usd=0.01,
            context_tokens=100,
            context_window=1000,
        )
    )
    core.emit(TurnFinished(turn_id=turn, stop_reason="end_turn", steps=1))


def _echo_prompt(core: FakeCore, op: SubmitPrompt) -> None:
    reply(core, f"You said: {op.text}.")


def _interrupted(core: FakeCore, op: Interrupt) -> None:
    del op
    core.emit(TurnFinished(turn_id="t1", stop_reason="interrupted"))


DEFAULT_REACTIONS: dict[str, Reaction] = {
    "submit_prompt": _echo_prompt,
    "shutdown": lambda core, op: core.close(),
    "interrupt": _interrupted,
    "set_mode": lambda core, op: core.emit(ModeChanged(mode=op.mode)),
    "set_model": lambda core, op: core.emit(
        ModelChanged(provider=op.provider or "scripted", model=op.model)
    ),
    "set_harness": lambda core, op: core.emit(HarnessToggled(enabled=op.enabled)),
}


class FakeHost:
    """Opens ``FakeCore``s: new ones from ``make``, old ones by id."""

    def __init__(self, *cores: FakeCore, make: Callable[[], FakeCore] | None = None) -> None:
        self.cores = {core.session_id: core for core in cores}
        self.make = make or (lambda: FakeCore("new"))
        self.opened: list[OpenRequest] = []

    async def open(self, request: OpenRequest) -> OpenedCore:
        self.opened.append(request)
        if request.resume is not None:
            if request.resume not in self.cores:
                raise SessionNotFoundError(f"no session {request.resume}", hint="arcan sessions")
            return OpenedCore(self.cores[request.resume], mode="ask")
        if request.continue_latest and self.cores:
            return OpenedCore(list(self.cores.values())[-1], mode="ask")
        core = self.make()
        self.cores[core.session_id] = core
        return OpenedCore(core, provider="scripted", model="demo", mode="ask", context_window=2000)

    def sessions(self) -> Sequence[SessionInfo]:
        return [SessionInfo(id=key, title=f"title {key}") for key in reversed(self.cores)]


class Transcript(io.StringIO):
    """A transcript that wakes waiters when a text appears."""

    def __init__(self, *, tty: bool = False) -> None:
        super().__init__()
        self._tty = tty
        self._waiters: list[tuple[str, asyncio.Event]] = []

    def isatty(self) -> bool:
        return self._tty

    def write(self, text: str) -> int:
        written = super().write(text)
        value = self.getvalue()
        for needle, event in self._waiters:
            if needle in value:
                event.set()
        return written

    async def wait_for(self, needle: str, *, count: int = 1) -> None:
        while self.getvalue().count(needle) < count:
            event = asyncio.Event()
            self._waiters.append((needle, event))
            try:
                await asyncio.wait_for(event.wait(), DEADLINE_S)
            except TimeoutError:
                pytest.fail(f"{needle!r} never appeared; transcript:\n{self.getvalue()}")
            finally:
                self._waiters.remove((needle, event))
            if self.getvalue().count(needle) < count:
                # Seen once already; wait for the next write.
                await asyncio.sleep(0)


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def make_shell(
    host: FakeHost,
    pipe: PipeInput,
    tmp_path: Path,
    *,
    out: Transcript | None = None,
    request: OpenRequest | None = None,
    **options: Any,
) -> tuple[ShellSession, Transcript]:
    transcript = out or Transcript()
    shell = ShellSession(
        host,
        project_dir=tmp_path,
        request=request,
        pt_input=pipe,
        pt_output=DummyOutput(),
        out=transcript,
        history=InMemoryHistory(),
        size=lambda: (100, 40),
        **options,
    )
    return shell, transcript


async def finish(task: asyncio.Task[int]) -> int:
    return await asyncio.wait_for(task, DEADLINE_S)


async def test_prompt_streams_the_reply_and_quit_shuts_the_core_down(
    pipe: PipeInput, tmp_path: Path
) -> None:
    core = FakeCore()
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("hello there\r")
    await out.wait_for("You said: hello there.")
    pipe.send_text("/quit\r")
    assert await finish(task) == 0
    assert core.ops_of(SubmitPrompt) == [SubmitPrompt(text="hello there")]
    assert isinstance(core.ops[-1], Shutdown)
    assert "\x1b" not in out.getvalue()  # not a terminal: nothing but text
    assert shell.state.session_cost_usd == pytest.approx(0.01)
    assert shell.state.toolbar().startswith(" scripted/demo · ask · ctx 10% · $0.01")


def _edit_then_answer(diff: str, *, suggested: str | None = "edit(notes.txt)") -> Reaction:
    def react(core: FakeCore, op: SubmitPrompt) -> None:
        del op
        core.emit(TurnStarted(turn_id="t1", prompt="edit"))
        core.emit(TextDelta(text="I'll edit the file."))
        core.emit(ToolCallStarted(call_id="c1", name="edit"))
        core.emit(ToolCallArgumentsDelta(call_id="c1", fragment='{"path": "notes.txt"}'))
        core.emit(
            ToolCallAwaitingApproval(
                call_id="c1",
                name="edit",
                input={"path": "notes.txt"},
                request=ApprovalRequest(
                    tool="edit",
                    summary="edit notes.txt",
                    preview=diff,
                    preview_kind="diff",
                    cwd="/project",
                    reason="mode ask asks before edits",
                    scopes=("once", "session", "project", "pattern"),
                    suggested_pattern=suggested,
                ),
            )
        )

    return react


def _finish_after_answer(core: FakeCore, op: AnswerApproval) -> None:
    allowed = op.decision == "allow"
    core.emit(
        ToolCallFinished(
            call_id=op.call_id,
            name="edit",
            input={"path": "notes.txt"},
            result="edited" if allowed else "denied",
            denied=not allowed,
            display=ToolDisplay(kind="diff", diff=DIFF) if allowed else None,
        )
    )
    if sum(isinstance(o, AnswerApproval) for o in core.ops) >= core_expected_answers(core):
        reply(core, "Done.", turn="t1")


def core_expected_answers(core: FakeCore) -> int:
    return int(getattr(core, "expected_answers", 1))


def edit_core() -> FakeCore:
    return FakeCore(
        reactions={
            "submit_prompt": _edit_then_answer(DIFF),
            "answer_approval": _finish_after_answer,
        }
    )


DIFF = "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-old line\n+new line\n"


async def test_an_edit_is_approved_with_y_and_its_diff_is_shown(
    pipe: PipeInput, tmp_path: Path
) -> None:
    core = FakeCore(
        reactions={
            "submit_prompt": _edit_then_answer(DIFF),
            "answer_approval": _finish_after_answer,
        }
    )
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("change the note\r")
    await out.wait_for("? ")
    assert core.ops_of(AnswerApproval) == []
    pipe.send_text("y")
    await out.wait_for("Done.")
    pipe.send_text("/quit\r")
    await finish(task)
    assert core.ops_of(AnswerApproval) == [AnswerApproval(call_id="c1", decision="allow")]
    text = out.getvalue()
    assert "approve edit: edit notes.txt" in text
    assert "because mode ask asks before edits" in text
    assert "▸ edit notes.txt" in text
    assert "allowed once" in text
    assert "✓ edit notes.txt" in text
    assert text.count("+new line") == 2  # once in the question, once under the finished call


async def test_always_saves_the_suggested_pattern(pipe: PipeInput, tmp_path: Path) -> None:
    core = FakeCore(
        reactions={
            "submit_prompt": _edit_then_answer(DIFF),
            "answer_approval": _finish_after_answer,
        }
    )
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("change it\r")
    await out.wait_for("always (edit(notes.txt))")
    pipe.send_text("a")
    await out.wait_for("Done.")
    pipe.send_text("/quit\r")
    await finish(task)
    [answer] = core.ops_of(AnswerApproval)
    assert (answer.decision, answer.scope, answer.pattern) == (
        "allow",
        "pattern",
        "edit(notes.txt)",
    )


async def test_deny_asks_for_a_reason_that_reaches_the_core(
    pipe: PipeInput, tmp_path: Path
) -> None:
    core = FakeCore(
        reactions={
            "submit_prompt": _edit_then_answer(DIFF),
            "answer_approval": _finish_after_answer,
        }
    )
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("change it\r")
    await out.wait_for("? ")
    pipe.send_text("n")
    await out.wait_for("denied")
    pipe.send_text("keep the old line\r")
    await out.wait_for("Done.")
    pipe.send_text("/quit\r")
    await finish(task)
    [answer] = core.ops_of(AnswerApproval)
    assert (answer.decision, answer.reason) == ("deny", "keep the old line")
    assert "⊘ edit notes.txt — denied" in out.getvalue()


async def test_type_ahead_never_answers_an_approval(pipe: PipeInput, tmp_path: Path) -> None:
    def start(core: FakeCore, op: SubmitPrompt) -> None:
        del op
        core.emit(TurnStarted(turn_id="t1", prompt="x"))
        core.emit(TextDelta(text="working on it"))

    core = FakeCore(reactions={"submit_prompt": start, "answer_approval": _finish_after_answer})
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("go\r")
    await out.wait_for("working on it")
    pipe.send_text("yyy")  # typed before any question existed
    _edit_then_answer(DIFF)(core, SubmitPrompt(text="go"))
    await out.wait_for("? ")
    assert core.ops_of(AnswerApproval) == []
    pipe.send_text("n\r")  # deny, and an empty reason
    await out.wait_for("Done.")
    pipe.send_text("/quit\r")
    await finish(task)
    [answer] = core.ops_of(AnswerApproval)
    assert answer.decision == "deny"
    assert answer.reason is None


async def test_approvals_that_arrive_together_are_asked_in_turn(
    pipe: PipeInput, tmp_path: Path
) -> None:
    def two(core: FakeCore, op: SubmitPrompt) -> None:
        _edit_then_answer(DIFF)(core, op)
        core.emit(ToolCallStarted(call_id="c2", name="bash"))
        core.emit(
            ToolCallAwaitingApproval(
                call_id="c2",
                name="bash",
                input={"command": "make test"},
                request=ApprovalRequest(
                    tool="bash",
                    summary="run make test",
                    preview="make test",
                    preview_kind="command",
                    cwd="/project",
                    reason="commands ask",
                    scopes=("once", "session"),
                ),
            )
        )

    core = FakeCore(reactions={"submit_prompt": two, "answer_approval": _finish_after_answer})
    core.expected_answers = 2  # type: ignore[attr-defined]
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("do both\r")
    await out.wait_for("(1 of 2)")
    pipe.send_text("y")
    await out.wait_for("(2 of 2)")
    assert "$ make test" in out.getvalue()
    pipe.send_text("a")
    await out.wait_for("Done.")
    pipe.send_text("/quit\r")
    await finish(task)
    answers = core.ops_of(AnswerApproval)
    assert [(a.call_id, a.scope) for a in answers] == [("c1", "once"), ("c2", "session")]


async def test_ctrl_c_interrupts_the_turn(pipe: PipeInput, tmp_path: Path) -> None:
    def start(core: FakeCore, op: SubmitPrompt) -> None:
        del op
        core.emit(TurnStarted(turn_id="t1", prompt="x"))
        core.emit(TextDelta(text="thinking about a long answer"))

    core = FakeCore(reactions={"submit_prompt": start})
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("long task\r")
    await out.wait_for("long answer")
    pipe.send_text("\x03")
    await out.wait_for("interrupted")
    pipe.send_text("/quit\r")
    await finish(task)
    assert len(core.ops_of(Interrupt)) == 1
    assert not shell.state.turn_running


async def test_second_ctrl_c_at_an_empty_prompt_quits(pipe: PipeInput, tmp_path: Path) -> None:
    core = FakeCore()
    shell, _ = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    # Ctrl+C on a typed line clears it; two more on the empty prompt quit.
    pipe.send_text("half typed\x03")
    pipe.send_text("\x03")
    pipe.send_text("\x03")
    assert await finish(task) == 0
    assert core.ops_of(SubmitPrompt) == []
    assert isinstance(core.ops[-1], Shutdown)


async def test_ctrl_d_at_an_empty_prompt_quits(pipe: PipeInput, tmp_path: Path) -> None:
    core = FakeCore()
    shell, _ = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("\x04")
    assert await finish(task) == 0


async def test_mode_model_and_harness_commands_send_operations(
    pipe: PipeInput, tmp_path: Path
) -> None:
    core = FakeCore()
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("/mode auto-edit\r")
    await out.wait_for("mode: auto-edit")
    pipe.send_text("/model openai gpt-5\r")
    await out.wait_for("model: openai/gpt-5")
    pipe.send_text("/harness on\r")
    await out.wait_for("harness: on")
    pipe.send_text("/mode sideways\r")
    await out.wait_for("unknown mode 'sideways'")
    pipe.send_text("/frobnicate\r")
    await out.wait_for("unknown command /frobnicate")
    pipe.send_text("/quit\r")
    await finish(task)
    assert core.ops_of(SetMode) == [SetMode(mode="auto-edit")]
    assert core.ops_of(SetModel) == [SetModel(model="gpt-5", provider="openai")]
    assert core.ops_of(SetHarness) == [SetHarness(enabled=True)]
    assert shell.state.toolbar().startswith(" openai/gpt-5 · auto-edit")
    assert "harness on" in shell.state.toolbar()


async def test_model_with_a_provider_name_alone_switches_to_its_default_model(
    pipe: PipeInput, tmp_path: Path
) -> None:
    core = FakeCore()
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("/model anthropic\r")
    await out.wait_for("model: anthropic/claude-sonnet-4-5")
    pipe.send_text("/model gpt-4.1-mini\r")
    await out.wait_for("model: scripted/gpt-4.1-mini")
    pipe.send_text("/quit\r")
    await finish(task)
    assert core.ops_of(SetModel) == [
        SetModel(model="claude-sonnet-4-5", provider="anthropic"),
        SetModel(model="gpt-4.1-mini", provider=None),
    ]


async def test_help_and_cost(pipe: PipeInput, tmp_path: Path) -> None:
    core = FakeCore()
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("hi\r")
    await out.wait_for("You said: hi.")
    pipe.send_text("/help\r")
    await out.wait_for("Ctrl+D")
    pipe.send_text("/cost\r")
    await out.wait_for("context")
    pipe.send_text("/quit\r")
    await finish(task)
    text = out.getvalue()
    for name in ("/help", "/model", "/mode", "/harness", "/compact", "/undo", "/cost"):
        assert name in text
    assert "$0.0100" in text
    assert "100 of 1,000 (10%)" in text


def _past_session(session_id: str, prompt: str, answer: str) -> FakeCore:
    return FakeCore(
        session_id,
        past=[
            ModelChanged(provider="scripted", model="demo"),
            ModeChanged(mode="ask"),
            TurnStarted(turn_id="t0", prompt=prompt),
            TextDelta(text=answer),
            MessageAppended(message=Message(role="assistant", content=(TextBlock(text=answer),))),
            TurnFinished(turn_id="t0", stop_reason="end_turn"),
        ],
    )


async def test_continue_shows_the_past_and_goes_on(pipe: PipeInput, tmp_path: Path) -> None:
    old = _past_session("old", "what is 2+2?", "It is 4.")
    host = FakeHost(old)
    shell, out = make_shell(host, pipe, tmp_path, request=OpenRequest(continue_latest=True))
    task = asyncio.create_task(shell.run())
    await out.wait_for("It is 4.")
    pipe.send_text("and 3+3?\r")
    await out.wait_for("You said: and 3+3?.")
    pipe.send_text("/quit\r")
    await finish(task)
    text = out.getvalue()
    assert "> what is 2+2?" in text
    assert text.count("It is 4.") == 1  # the replayed deltas are not printed twice
    assert old.ops_of(SubmitPrompt) == [SubmitPrompt(text="and 3+3?")]
    assert shell.state.toolbar().startswith(" scripted/demo · ask")


async def test_sessions_and_resume_switch_the_core(pipe: PipeInput, tmp_path: Path) -> None:
    first = _past_session("aaa111", "first question", "First answer.")
    second = _past_session("bbb222", "second question", "Second answer.")
    host = FakeHost(first, second)
    shell, out = make_shell(host, pipe, tmp_path, request=OpenRequest(resume="aaa111"))
    task = asyncio.create_task(shell.run())
    await out.wait_for("First answer.")
    pipe.send_text("/sessions\r")
    await out.wait_for("title bbb222")
    pipe.send_text("/resume bbb\r")
    await out.wait_for("Second answer.")
    assert shell.session_id == "bbb222"
    pipe.send_text("/resume zzz\r")
    await out.wait_for("no session match 'zzz'")
    pipe.send_text("/quit\r")
    await finish(task)
    assert "* aaa111" in out.getvalue()
    assert isinstance(first.ops[-1], Shutdown)
    assert isinstance(second.ops[-1], Shutdown)


async def test_a_core_that_cannot_open_ends_the_shell_with_its_error(
    pipe: PipeInput, tmp_path: Path
) -> None:
    shell, _ = make_shell(FakeHost(), pipe, tmp_path, request=OpenRequest(resume="nope"))
    with pytest.raises(SessionNotFoundError):
        await finish(asyncio.create_task(shell.run()))


async def test_no_color_means_plain_text_even_on_a_terminal(
    pipe: PipeInput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    core = FakeCore(reactions={"submit_prompt": lambda c, op: reply(c, "# Title\n\n**bold**")})
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path, out=Transcript(tty=True))
    task = asyncio.create_task(shell.run())
    pipe.send_text("show markdown\r")
    await out.wait_for("1 step")
    pipe.send_text("/quit\r")
    await finish(task)
    assert "\x1b" not in out.getvalue()
    assert "# Title\n\n**bold**" in out.getvalue()


async def test_an_interactive_terminal_gets_the_reply_rerendered_as_markdown(
    pipe: PipeInput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    core = FakeCore(reactions={"submit_prompt": lambda c, op: reply(c, "# Title\n\n**bold**")})
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path, out=Transcript(tty=True))
    task = asyncio.create_task(shell.run())
    pipe.send_text("show markdown\r")
    await out.wait_for("1 step")
    pipe.send_text("/quit\r")
    await finish(task)
    text = out.getvalue()
    streamed_rows = 3  # "# Title", "", "**bold**"
    assert f"\x1b[{streamed_rows}A\r\x1b[J" in text
    rendered = text.split("\x1b[J", 1)[1]
    assert "Title" in rendered
    assert "**bold**" not in rendered


async def test_an_approval_published_twice_is_asked_once(pipe: PipeInput, tmp_path: Path) -> None:
    ask_twice = _edit_then_answer(DIFF)

    def react(core: FakeCore, op: SubmitPrompt) -> None:
        ask_twice(core, op)
        core.emit(core._log[-1].msg)  # the same request again

    core = FakeCore(reactions={"submit_prompt": react, "answer_approval": _finish_after_answer})
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("edit\r")
    await out.wait_for("? ")
    pipe.send_text("y")
    await out.wait_for("Done.")
    pipe.send_text("/quit\r")
    await finish(task)
    assert len(core.ops_of(AnswerApproval)) == 1
    assert "(1 of 2)" not in out.getvalue()


async def test_events_that_arrive_at_the_prompt_are_printed(
    pipe: PipeInput, tmp_path: Path
) -> None:
    core = FakeCore()
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("hi\r")
    await out.wait_for("You said: hi.")
    core.emit(WarningEvent(message="the disk is almost full"))
    await out.wait_for("warning: the disk is almost full")
    pipe.send_text("/quit\r")
    await finish(task)


async def test_compact_and_undo_wait_for_the_core(pipe: PipeInput, tmp_path: Path) -> None:
    core = FakeCore(
        reactions={
            "compact": lambda c, op: c.emit(
                ContextCompacted(
                    summary=Message(role="user", content=(TextBlock(text="summary"),)),
                    replaced=12,
                    tokens_before=9000,
                    tokens_after=800,
                )
            ),
            "undo": lambda c, op: c.emit(FilesRestored(paths=("a.py",), checkpoint="k1")),
        }
    )
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("/compact keep the plan\r")
    await out.wait_for("12 older messages summarised (9,000 → 800 tokens)")
    pipe.send_text("/undo\r")
    await out.wait_for("restored 1 file")
    pipe.send_text("/quit\r")
    await finish(task)
    assert core.ops_of(Compact) == [Compact(instructions="keep the plan")]
    assert core.ops_of(Undo) == [Undo()]
    assert shell.state.context_tokens == 800


async def test_ctrl_c_at_an_approval_denies_and_interrupts(pipe: PipeInput, tmp_path: Path) -> None:
    core = edit_core()
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("edit\r")
    await out.wait_for("? ")
    pipe.send_text("\x03")
    await out.wait_for("interrupted")
    pipe.send_text("/quit\r")
    await finish(task)
    [answer] = core.ops_of(AnswerApproval)
    assert answer.decision == "deny"
    assert len(core.ops_of(Interrupt)) == 1
    assert "denied, interrupting" in out.getvalue()


async def test_with_no_input_left_an_approval_is_denied_and_the_shell_ends(
    pipe: PipeInput, tmp_path: Path
) -> None:
    core = edit_core()
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("edit\r")
    await out.wait_for("? ")
    pipe.close()
    assert await finish(task) == 0
    [answer] = core.ops_of(AnswerApproval)
    assert (answer.decision, answer.reason) == ("deny", "no input to answer the approval")
    assert isinstance(core.ops[-1], Shutdown)


async def test_a_second_ctrl_c_stops_waiting_for_a_stuck_core(
    pipe: PipeInput, tmp_path: Path
) -> None:
    def start(core: FakeCore, op: SubmitPrompt) -> None:
        del op
        core.emit(TurnStarted(turn_id="t1", prompt="x"))
        core.emit(TextDelta(text="stuck"))

    core = FakeCore(reactions={"submit_prompt": start, "interrupt": lambda c, op: None})
    shell, out = make_shell(FakeHost(make=lambda: core), pipe, tmp_path)
    task = asyncio.create_task(shell.run())
    pipe.send_text("go\r")
    await out.wait_for("stuck")
    pipe.send_text("\x03")
    pipe.send_text("\x03")
    await out.wait_for("stopped waiting")
    pipe.send_text("/quit\r")
    await finish(task)
    assert len(core.ops_of(Interrupt)) == 1
