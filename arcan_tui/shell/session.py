"""``ShellSession``: the line-mode controller.

One loop reads a prompt, sends it, and attends to the turn until the core says it finished: keys
are read raw meanwhile (Ctrl+C interrupts; anything else is kept as type-ahead for the next prompt)
and approval requests are asked one at a time. One task pumps the core's events into the toolbar
state and the renderer; while a prompt is on screen, its output is printed above the prompt.

The core is opened in the background: the first prompt is on screen before the agent's modules have
loaded, and a prompt sent early simply waits for the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.input.typeahead import store_typeahead
from prompt_toolkit.keys import Keys

from arcan_tui.shell import BANNER
from arcan_tui.shell.approvals import ApprovalPrompter
from arcan_tui.shell.commands import CommandRegistry, default_registry
from arcan_tui.shell.host import OpenRequest
from arcan_tui.shell.keys import KeyReader
from arcan_tui.shell.prompt import SharedHistory, ShellCompleter, build_prompt_session
from arcan_tui.shell.renderer import Renderer
from arcan_tui.shell.state import ShellState
from arcan_tui.shell.style import Palette, colour_enabled

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import TextIO

    from prompt_toolkit.history import History
    from prompt_toolkit.input import Input
    from prompt_toolkit.key_binding import KeyPress
    from prompt_toolkit.output import Output

    from arcan_core.agent.api import CoreHandle
    from arcan_core.protocol.events import Event, EventMsg, ToolCallAwaitingApproval
    from arcan_core.protocol.operations import Operation
    from arcan_tui.shell.host import SessionInfo, ShellHost

__all__ = ["ShellSession"]

Predicate: TypeAlias = "Callable[[EventMsg], bool]"


def _stdin_input() -> Input:
    """prompt-toolkit's input on stdin, without its warning when stdin is a pipe.

    Piped prompts (``arcan shell < tasks.txt``) are supported, so prompt-toolkit's
    "Warning: Input is not a terminal" line would only be noise on stderr.
    """
    import io  # noqa: PLC0415

    from prompt_toolkit.input import create_input  # noqa: PLC0415

    if _stdin_is_terminal():
        return create_input()
    with contextlib.redirect_stderr(io.StringIO()):
        return create_input()


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


class ShellSession:
    """The line-mode front-end over one core at a time.

    Args:
        host: opens cores and lists sessions.
        project_dir: the project (``@path`` completion, prompt history).
        request: the session to open first (new, ``--continue``, ``--resume``).
        pt_input: prompt-toolkit input (default: the terminal).
        pt_output: prompt-toolkit output for the prompt and toolbar (default: the terminal).
        out: where the transcript is written (default: ``sys.stdout``).
        interactive: whether ``out`` is a terminal (default: ask it).
        colour: colour on or off (default: interactive and no ``NO_COLOR``).
        history: prompt history (default: the project's, shared with the TUI).
        size: ``(columns, rows)`` of the terminal, for the markdown re-render.
        registry: slash commands (default: the built-in ones).
        banner: print the one-line banner (off when the command line already painted it).
    """

    def __init__(
        self,
        host: ShellHost,
        *,
        project_dir: Path,
        request: OpenRequest | None = None,
        pt_input: Input | None = None,
        pt_output: Output | None = None,
        out: TextIO | None = None,
        interactive: bool | None = None,
        colour: bool | None = None,
        history: History | None = None,
        size: Callable[[], tuple[int, int]] | None = None,
        registry: CommandRegistry | None = None,
        banner: bool = True,
    ) -> None:
        self._host = host
        self._banner = banner
        self._request = request or OpenRequest()
        self._out: TextIO = out if out is not None else sys.stdout
        if interactive is None:
            interactive = bool(getattr(self._out, "isatty", lambda: False)())
        if colour is None:
            colour = interactive and colour_enabled(self._out)
        if pt_input is None:
            pt_input = _stdin_input()
        self._input = pt_input
        self.state = ShellState()
        self._registry = registry or default_registry()
        renderer_options: dict[str, Any] = {} if size is None else {"size": size}
        self.renderer = Renderer(
            self._out, Palette(colour=colour), rerender=interactive and colour, **renderer_options
        )
        self._warm_markdown = interactive and colour
        if history is None:
            from arcan_tui.history import PromptHistory  # noqa: PLC0415

            history = SharedHistory(PromptHistory.for_project(project_dir))
        self._prompt = build_prompt_session(
            pt_input=pt_input,
            pt_output=pt_output,
            history=history,
            completer=ShellCompleter(self._registry, project_dir),
            toolbar=self._toolbar,
        )
        self._pt_output = pt_output
        self._reason_prompt: PromptSession[str] | None = None
        self.keys = KeyReader(pt_input)
        self._approver = ApprovalPrompter(self.renderer, self.keys, self._read_reason)
        self._approvals: asyncio.Queue[ToolCallAwaitingApproval] = asyncio.Queue()
        self._answered_in_batch = 0
        self._asked: set[str] = set()
        self._typeahead: list[KeyPress] = []
        self._core: CoreHandle | None = None
        self._opening: asyncio.Task[CoreHandle] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._closing_core = False
        self._until: Predicate | None = None
        self._waiting: asyncio.Future[None] | None = None
        self._prompting = False
        self._deferred: list[tuple[Event, bool]] = []
        self._redraw: asyncio.Future[None] | None = None
        self._armed_quit = False
        self._quitting = False
        self._interrupts = 0

    # -- ShellContext ----------------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        """The id of the session in use, once the core is open."""
        return self._core.session_id if self._core is not None else None

    @property
    def registry(self) -> CommandRegistry:
        """The slash commands."""
        return self._registry

    def say(self, text: str = "", *styles: str) -> None:
        """Print a line of the shell's own (not an event)."""
        self.renderer.line(text, *styles)
        self._out.flush()

    async def request(self, op: Operation, until: frozenset[str]) -> None:
        """Send ``op``; wait for an event of a type in ``until``, an error, or Ctrl+C."""
        core = await self._ready_core()
        await self._attend(core, op, lambda msg: msg.type in until or msg.type == "error")

    def sessions(self) -> Sequence[SessionInfo]:
        """The project's sessions, newest first."""
        return self._host.sessions()

    async def switch_session(self, session_id: str) -> None:
        """Close the current core and resume ``session_id`` in its place."""
        await self._close_core()
        self.state = ShellState()
        self._asked.clear()
        while not self._approvals.empty():
            self._approvals.get_nowait()
        self.say(f"resuming {session_id}", "dim")
        self._start_opening(OpenRequest(resume=session_id))
        await self._ready_core()

    def quit(self) -> None:
        """Leave after the current command."""
        self._quitting = True

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until ``/quit``, Ctrl+D, or a second Ctrl+C at an empty prompt; return 0."""
        # The core starts loading once the first prompt is drawn: its imports hold the GIL for
        # a good part of a second and would otherwise delay that first frame.
        self._prompt.app.after_render += self._first_frame
        if self._banner:
            self.say(BANNER, "dim")
        # Raw for the whole session, not only while someone reads: a Ctrl+C or Ctrl+D pressed in
        # the instant between a turn and the next prompt must arrive as a key, not as SIGINT or a
        # line-discipline EOF that would be lost.
        with self._input.raw_mode():
            try:
                while not self._quitting:
                    line = await self._read_line()
                    if line is None:
                        break
                    await self._handle_line(line)
                    if self._core_died():
                        self.say("the core has stopped", "red")
                        break
            finally:
                await self._close_core()
        return 0

    def _first_frame(self, app: object) -> None:
        del app
        self._prompt.app.after_render -= self._first_frame
        if self._opening is None and self._core is None:
            self._start_opening(self._request)

    def _core_died(self) -> bool:
        pump = self._pump_task
        return (
            self._core is not None and pump is not None and pump.done() and not self._closing_core
        )

    async def _read_line(self) -> str | None:
        while True:
            self._flush_deferred()
            if self._typeahead:
                store_typeahead(self._input, self._typeahead)
                self._typeahead = []
            self._prompting = True
            try:
                text = await self._prompt.prompt_async()
            except KeyboardInterrupt:
                if self._armed_quit:
                    return None
                self._armed_quit = True
                continue
            except EOFError:
                return None
            finally:
                self._prompting = False
                self._flush_deferred()
            self._armed_quit = False
            return text

    async def _handle_line(self, text: str) -> None:
        stripped = text.strip()
        if not stripped:
            return
        if stripped.startswith("/"):
            # Commands read the session's state, which is known once the core is open.
            await self._ready_core()
            await self._registry.dispatch(self, stripped)
            return
        from arcan_core.protocol.operations import SubmitPrompt  # noqa: PLC0415

        core = await self._ready_core()
        await self._attend(core, SubmitPrompt(text=text), self._turn_over)

    def _turn_over(self, msg: EventMsg) -> bool:
        # An error with no turn running means the prompt was refused before a turn began.
        return msg.type == "turn_finished" or (msg.type == "error" and not self.state.turn_running)

    def _toolbar(self) -> str:
        if self._armed_quit:
            return " press Ctrl+C again to quit "
        return self.state.toolbar()

    # -- the core ----------------------------------------------------------------------------------

    def _start_opening(self, request: OpenRequest) -> None:
        self._opening = asyncio.create_task(self._open(request))
        self._opening.add_done_callback(self._opened)

    async def _open(self, request: OpenRequest) -> CoreHandle:
        cutoff = datetime.now(UTC)
        opened = await self._host.open(request)
        core = opened.core
        self._core = core
        self._closing_core = False
        self.state.seed(
            provider=opened.provider,
            model=opened.model,
            mode=opened.mode,
            harness=opened.harness,
            context_window=opened.context_window,
        )
        self.renderer.show_thinking = opened.show_thinking
        self._pump_task = asyncio.create_task(
            self._pump(core, replay=request.replays, cutoff=cutoff)
        )
        if self._warm_markdown:
            self._warm_markdown = False
            threading.Thread(target=_import_markdown, name="arcan-warm-rich", daemon=True).start()
        return core

    def _opened(self, task: asyncio.Task[CoreHandle]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and self._prompting and self._prompt.app.is_running:
            # Fail now rather than when the user sends a prompt into a core that never came.
            self._prompt.app.exit(exception=error)
        elif self._prompting and self._prompt.app.is_running:
            self._prompt.app.invalidate()

    async def _ready_core(self) -> CoreHandle:
        if self._core is not None:
            return self._core
        if self._opening is None:
            self._start_opening(self._request)
        assert self._opening is not None  # noqa: S101 - set just above
        if not self._opening.done():
            self.say("starting…", "dim")
        return await self._opening

    async def _close_core(self) -> None:
        opening, self._opening = self._opening, None
        if opening is not None and not opening.done():
            with contextlib.suppress(Exception):
                await opening
        core, self._core = self._core, None
        if core is None:
            return
        from arcan_core.protocol.operations import Shutdown  # noqa: PLC0415

        self._closing_core = True
        core.submit(Shutdown())
        await core.wait_closed()
        if self._pump_task is not None:
            await self._pump_task
            self._pump_task = None
        self.renderer.finish()
        self._out.flush()

    async def _pump(self, core: CoreHandle, *, replay: bool, cutoff: datetime) -> None:
        try:
            async for event in core.subscribe(replay=replay):
                past = replay and event.ts < cutoff
                self.state.apply(event.msg)
                self._show(event, past=past)
                if past:
                    continue
                msg = event.msg
                if msg.type == "tool_call_awaiting_approval" and msg.call_id not in self._asked:
                    # One question per call, even if the request is published more than once.
                    self._asked.add(msg.call_id)
                    self._approvals.put_nowait(msg)
                if self._until is not None and self._until(event.msg):
                    self._release_wait()
        finally:
            self._release_wait()

    def _release_wait(self) -> None:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(None)

    # -- output while a prompt is on screen ----------------------------------------------------

    def _show(self, event: Event, *, past: bool) -> None:
        if not self._prompting and not self._deferred:
            self.renderer.handle(event, history=past)
            return
        self._deferred.append((event, past))
        if len(self._deferred) == 1 and self._prompting:
            # One redraw of the prompt per burst of events, not one per event.
            self._redraw = asyncio.ensure_future(run_in_terminal(self._flush_deferred))
        if self._prompting and self._prompt.app.is_running:
            self._prompt.app.invalidate()

    def _flush_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        for event, past in deferred:
            self.renderer.handle(event, history=past)
        if deferred:
            self.renderer.finish()
            self._out.flush()

    # -- attending to the core -----------------------------------------------------------------

    async def _attend(self, core: CoreHandle, op: Operation, until: Predicate) -> None:
        """Send ``op`` and serve keys and approvals until ``until`` matches an event."""
        loop = asyncio.get_running_loop()
        waiting: asyncio.Future[None] = loop.create_future()
        self._until, self._waiting = until, waiting
        if self._pump_task is None or self._pump_task.done():
            waiting.set_result(None)
        core.submit(op)
        self._interrupts = 0
        key_task: asyncio.Future[KeyPress | None] | None = None
        approval_task: asyncio.Task[ToolCallAwaitingApproval] | None = None
        try:
            with self.keys.listening():
                while not waiting.done():
                    if key_task is None:
                        key_task = (
                            loop.create_future()  # the input ended: nothing more to read
                            if self.keys.eof
                            else asyncio.ensure_future(self.keys.next_key())
                        )
                    if approval_task is None:
                        approval_task = asyncio.create_task(self._approvals.get())
                    pending: set[asyncio.Future[Any]] = {waiting, key_task, approval_task}
                    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    if key_task.done():
                        key, key_task = key_task.result(), None
                        if self._on_key(core, key):
                            break
                    if approval_task.done():
                        awaiting, approval_task = approval_task.result(), None
                        if key_task is not None:
                            key_task.cancel()
                            key_task = None
                        await self._answer(core, awaiting)
        finally:
            self._salvage(key_task, approval_task)
            self._until, self._waiting = None, None
            # Keys typed after the last question belong to the next prompt.
            self._typeahead.extend(self.keys.take_queued())
            self.renderer.finish()
            self._out.flush()

    def _on_key(self, core: CoreHandle, key: KeyPress | None) -> bool:
        """Handle a key pressed while the core works; return whether to stop waiting."""
        if key is None:
            return False
        if key.key != Keys.ControlC:
            self._typeahead.append(key)
            return False
        self._interrupts += 1
        if self._interrupts > 1:
            self.say("stopped waiting; the core is still stopping", "yellow")
            return True
        from arcan_core.protocol.operations import Interrupt  # noqa: PLC0415

        # No note here: it would cut the streaming reply in two; the core's "interrupted" follows.
        core.submit(Interrupt())
        return False

    def _salvage(
        self,
        key_task: asyncio.Future[KeyPress | None] | None,
        approval_task: asyncio.Task[ToolCallAwaitingApproval] | None,
    ) -> None:
        """Keep what the reader tasks got in the instant the wait ended, then stop them."""
        if key_task is not None and key_task.done() and not key_task.cancelled():
            late = key_task.result()
            if late is not None:
                self._typeahead.append(late)
        if approval_task is not None and approval_task.done() and not approval_task.cancelled():
            self._approvals.put_nowait(approval_task.result())
        for task in (key_task, approval_task):
            if task is not None:
                task.cancel()

    async def _answer(self, core: CoreHandle, awaiting: ToolCallAwaitingApproval) -> None:
        from arcan_core.protocol.operations import AnswerApproval, Interrupt  # noqa: PLC0415

        # Type-ahead was meant for a prompt, never for this question.
        self._typeahead.clear()
        position = self._answered_in_batch + 1
        total = position + self._approvals.qsize()
        answer = await self._approver.ask(awaiting, position=position, total=total)
        core.submit(
            AnswerApproval(
                call_id=awaiting.call_id,
                decision=answer.decision,
                scope=answer.scope,
                pattern=answer.pattern,
                reason=answer.reason,
            )
        )
        self._answered_in_batch = 0 if self._approvals.empty() else position
        if answer.interrupt:
            core.submit(Interrupt())

    async def _read_reason(self) -> str:
        # Keys typed after the question was shown (the reason itself) go to the reason prompt.
        store_typeahead(self._input, self.keys.take_queued())
        if self._reason_prompt is None:
            self._reason_prompt = PromptSession(
                input=self._input, output=self._pt_output, multiline=False
            )
        try:
            return await self._reason_prompt.prompt_async("  reason (optional, Enter to skip): ")
        except (KeyboardInterrupt, EOFError):
            return ""


def _import_markdown() -> None:
    # Importing rich's markdown stack takes ~0.1 s; doing it while the user types keeps it off
    # the first reply's path.
    import rich.markdown  # noqa: F401, PLC0415
