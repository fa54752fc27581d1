"""The chat screen: transcript, sensor panel, approval panel, prompt and status bar.

It is the ``ChatView`` the event router drives and the ``SlashContext`` slash commands act
through; what it does itself is the prompt's side: sending prompts (with images and ``!command``
output), history, completion sources, keys, and the editor.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import os
import shlex
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen

from arcan_core.errors import ArcanError
from arcan_tui.completion import PathCompleter
from arcan_tui.history import PromptHistory
from arcan_tui.path_index import IMAGE_SUFFIXES, scan_project
from arcan_tui.slash import BUILTIN_COMMANDS, SlashCompleter, load_custom_commands, parse_slash
from arcan_tui.widgets.prompt import CompletionMenu, PromptInput
from arcan_tui.widgets.status import StatusBar, StatusState
from arcan_tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from arcan_core.protocol import events as ev
    from arcan_core.protocol.messages import ImageBlock
    from arcan_core.protocol.operations import Operation
    from arcan_tui.app import AppOptions, ArcanApp
    from arcan_tui.bridge import EventRouter
    from arcan_tui.slash import SlashCommand
    from arcan_tui.transcript_data import Item
    from arcan_tui.widgets.approval import ApprovalPanel
    from arcan_tui.widgets.sensors import SensorPanel
    from arcan_tui.widgets.transcript import Transcript

__all__ = ["ChatScreen"]

INDEX_DELAY_S = 0.3
"""Seconds after mount before the project's files are indexed for ``@`` completion."""

SHELL_TIMEOUT_S = 120.0
SHELL_CONTEXT_CHARS = 8_000
"""Output of a ``!command`` offered to the model with the next prompt, at most."""


class ChatScreen(ReportsWorkerErrors, Screen[None]):
    """The main screen.

    The first frame holds only the prompt and the status bar. The transcript (whose Markdown
    widget and its parser take about 35 ms to import), the sensor panel, the approval panel and
    the completion menu are built on first use and mounted by ``_mount_deferred`` right after
    that frame; ``deferred_mounted`` is set once they are, and the app waits for it before it
    routes a core's events here.
    """

    AUTO_FOCUS = "#prompt"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "interrupt", "interrupt"),
        Binding("f1", "help", "help"),
        Binding("f2", "toggle_sensors", "sensors"),
        Binding("ctrl+t", "toggle_thinking", "thinking"),
        Binding("ctrl+g", "edit_in_editor", "editor"),
        # Before the prompt's own Ctrl+V (Textual's in-app clipboard), which it falls back to.
        Binding("ctrl+v", "paste_image", "paste image", show=False, priority=True),
        Binding("ctrl+pageup", "load_earlier", "earlier", show=False, priority=True),
        Binding("ctrl+end", "follow", "follow", show=False),
        Binding("pageup", "transcript_page_up", show=False, priority=True),
        Binding("pagedown", "transcript_page_down", show=False, priority=True),
    ]

    def __init__(self, options: AppOptions) -> None:
        super().__init__()
        self.options = options
        self.router: EventRouter | None = None
        self._transcript: Transcript | None = None
        self._sensors: SensorPanel | None = None
        self._approvals: ApprovalPanel | None = None
        self.deferred_mounted = asyncio.Event()
        """Set once the widgets left out of the first frame are mounted."""
        self.menu = CompletionMenu(id="completion")
        self.history = PromptHistory.for_project(options.project_dir, root=options.history_root)
        self.custom_commands = load_custom_commands(options.project_dir)
        self.path_completer = PathCompleter()
        self.prompt = PromptInput(
            id="prompt",
            menu=self.menu,
            completers=(SlashCompleter(self.custom_commands), self.path_completer),
        )
        self.status = StatusBar(
            StatusState(provider=options.provider, model=options.model, mode=options.mode),
            id="status",
        )
        self._shell_context: list[str] = []
        self.set_class(options.sensor_panel, "-sensors")
        self.set_class(not options.show_thinking, "-hide-thinking")
        self.prompt.paste_filter = self._attach_dropped_images

    @property
    def arcan(self) -> ArcanApp:
        """The app, typed."""
        from arcan_tui.app import ArcanApp  # noqa: PLC0415

        app = self.app
        if not isinstance(app, ArcanApp):
            raise TypeError("ChatScreen runs only inside ArcanApp")
        return app

    @property
    def project_dir(self) -> Path:
        """The project directory."""
        return self.options.project_dir

    @property
    def transcript(self) -> Transcript:
        """The transcript (built on first use; items added before it is mounted are kept)."""
        if self._transcript is None:
            from arcan_tui.widgets.transcript import Transcript  # noqa: PLC0415 - after paint

            self._transcript = Transcript(id="transcript", window=self.options.window)
        return self._transcript

    @property
    def sensors(self) -> SensorPanel:
        """The sensor panel (built on first use)."""
        if self._sensors is None:
            from arcan_tui.widgets.sensors import SensorPanel  # noqa: PLC0415 - after paint

            self._sensors = SensorPanel(id="sensors")
        return self._sensors

    @property
    def approvals(self) -> ApprovalPanel:
        """The approval panel (built on first use)."""
        if self._approvals is None:
            from arcan_tui.widgets.approval import ApprovalPanel  # noqa: PLC0415 - after paint

            self._approvals = ApprovalPanel(id="approval")
        return self._approvals

    def compose(self) -> ComposeResult:
        """The first frame: an empty main area, the prompt and the status bar."""
        yield Horizontal(id="main")
        yield self.prompt
        yield self.status

    def on_mount(self) -> None:
        """Mount the rest after the first frame; index files for ``@`` completion later."""
        self.call_after_refresh(self._mount_deferred)
        # The walk competes with the UI for the GIL: start it once the screen is up.
        self.set_timer(INDEX_DELAY_S, self._start_index)
        # History is one small file, read now so that Up works from the first key.
        self.prompt.set_history(self.history.navigator())

    async def _mount_deferred(self) -> None:
        """Transcript and sensors in the main area; approval and completion above the prompt."""
        main = self.query_one("#main", Horizontal)
        await main.mount_all([self.transcript, self.sensors])
        await self.mount_all([self.approvals, self.menu], before=self.prompt)
        self.deferred_mounted.set()

    def _start_index(self) -> None:
        self.run_worker(
            self._index_files,
            thread=True,
            group="index",
            exclusive=True,
            name="indexing the project's files",
            exit_on_error=False,
        )

    def _index_files(self) -> None:
        paths = scan_project(self.project_dir)
        self.app.call_from_thread(setattr, self.path_completer, "paths", paths)

    # -- ChatView -----------------------------------------------------------------------------

    def add_item(self, item: Item) -> None:
        """Append an item to the transcript."""
        self.transcript.add(item)

    def touch_item(self, item: Item) -> None:
        """Re-render an item at the next flush."""
        self.transcript.touch(item)

    def set_status(self, **changes: object) -> None:
        """Change status-bar fields."""
        self.status.set(**changes)

    def request_approval(self, event: ev.ToolCallAwaitingApproval) -> None:
        """Queue a request; the panel replaces the prompt until the queue is empty."""
        from arcan_tui.widgets.approval import PendingApproval  # noqa: PLC0415

        self.add_class("-approving")
        self.approvals.push(PendingApproval(event.call_id, event.name, event.request))

    def drop_approval(self, call_id: str) -> None:
        """Forget a request the core no longer waits for."""
        self.approvals.discard(call_id)

    def record_sensor(self, reading: ev.SensorReading) -> None:
        """Update the sensor panel."""
        self.sensors.record(reading)

    def record_decision(self, decision: ev.ControllerDecision) -> None:
        """Update the controller line of the sensor panel."""
        self.sensors.decide(decision)

    # -- approvals ----------------------------------------------------------------------------

    def on_approval_panel_arrived(self, event: ApprovalPanel.Arrived) -> None:
        """Announce a request: bell and terminal title."""
        event.stop()
        self.app.bell()
        self.arcan.set_terminal_title("arcan — approval needed")

    def on_approval_panel_answered(self, event: ApprovalPanel.Answered) -> None:
        """Send the answer to the core."""
        event.stop()
        from arcan_core.protocol.operations import AnswerApproval  # noqa: PLC0415

        self.submit(
            AnswerApproval(
                call_id=event.call_id,
                decision=event.decision,
                scope=event.scope,
                pattern=event.pattern,
                reason=event.reason,
            )
        )

    def on_approval_panel_drained(self, event: ApprovalPanel.Drained) -> None:
        """Give the prompt back."""
        event.stop()
        self.remove_class("-approving")
        self.arcan.set_terminal_title("arcan")
        self.prompt.focus()

    # -- prompt -------------------------------------------------------------------------------

    async def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        """A slash command, a ``!command``, or a prompt for the model."""
        event.stop()
        text = event.text.strip()
        self.history.append(text)
        self.prompt.set_history(self.history.navigator())
        command = parse_slash(text)
        if command is not None:
            self._run_slash(*command)
        elif text.startswith("!") and len(text) > 1:
            self.run_worker(
                self._run_shell(text[1:].strip()),
                group="shell",
                name="running a !command",
                exit_on_error=False,
            )
        else:
            self.send_prompt(text)

    def _run_slash(self, name: str, argument: str) -> None:
        found: SlashCommand | None = BUILTIN_COMMANDS.get(name) or self.custom_commands.get(name)
        if found is None:
            self.say(f"unknown command /{name} (try /help)", "warning")
            return
        found.run(self, argument)

    def send_prompt(self, text: str) -> None:
        """Send a prompt, with attached images and any ``!command`` output waiting for it."""
        from arcan_core.protocol.operations import SubmitPrompt  # noqa: PLC0415

        images = self._images_in(text)
        if self._shell_context:
            text = "\n\n".join([*self._shell_context, text])
            self._shell_context.clear()
        self.submit(SubmitPrompt(text=text, images=images))

    def _images_in(self, text: str) -> tuple[ImageBlock, ...]:
        from arcan_core.protocol.messages import ImageBlock  # noqa: PLC0415

        images: list[ImageBlock] = []
        for word in text.split():
            if not word.startswith("@"):
                continue
            path = (self.project_dir / word[1:]).resolve()
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            media_type = mimetypes.guess_type(path.name)[0] or "image/png"
            try:
                data = base64.b64encode(path.read_bytes()).decode("ascii")
            except OSError as error:
                self.say(f"could not attach {word}: {error.strerror}", "warning")
                continue
            images.append(ImageBlock(media_type=media_type, data=data))
        return tuple(images)

    async def _run_shell(self, command: str) -> None:
        """Run ``command`` (no shell: split like a shell would), show it, keep it for the model."""
        from arcan_tui.transcript_data import ToolItem  # noqa: PLC0415 - not in the first frame

        item = ToolItem(call_id=f"user-shell-{id(command)}", name="!", input={"command": command})
        item.status = "running"
        item.live = True
        self.add_item(item)
        try:
            argv = shlex.split(command)
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.project_dir,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(process.communicate(), SHELL_TIMEOUT_S)
            code = process.returncode
        except (OSError, ValueError, TimeoutError) as error:
            out, err, code = b"", str(error).encode(), 127
        from arcan_core.protocol.events import ToolDisplay  # noqa: PLC0415

        stdout = out.decode(errors="replace")
        stderr = err.decode(errors="replace")
        item.display = ToolDisplay(kind="shell", stdout=stdout, stderr=stderr, exit_code=code)
        item.result = stdout + stderr
        item.status = "done" if code == 0 else "error"
        item.live = False
        self.touch_item(item)
        output = (stdout + stderr)[-SHELL_CONTEXT_CHARS:]
        self._shell_context.append(
            f"I ran `{command}` (exit code {code}):\n```\n{output.rstrip()}\n```"
        )
        self.say("its output goes to the model with your next message")

    # -- SlashContext -------------------------------------------------------------------------

    def submit(self, op: Operation) -> None:
        """Send an operation to the core."""
        self.arcan.submit(op)

    def say(self, text: str, level: Literal["info", "warning", "error"] = "info") -> None:
        """Show a notice in the transcript."""
        from arcan_tui.transcript_data import NoticeItem  # noqa: PLC0415 - not in the first frame

        self.add_item(NoticeItem(text=text, level=level))

    def show_help(self) -> None:
        """Open the help screen."""
        from arcan_tui.screens.help import HelpScreen  # noqa: PLC0415 - screens load lazily

        self.app.push_screen(HelpScreen(self.custom_commands))

    def show_sessions(self) -> None:
        """Open the session picker; resume, fork or rewind what is chosen."""
        from arcan_tui.screens.sessions import SessionPicker  # noqa: PLC0415

        self.app.push_screen(SessionPicker(self.project_dir), self._on_picked)

    def _on_picked(self, choice: object) -> None:
        from arcan_core.protocol.operations import Rewind  # noqa: PLC0415
        from arcan_tui.app import ConnectRequest  # noqa: PLC0415
        from arcan_tui.screens.sessions import PickedSession  # noqa: PLC0415

        if not isinstance(choice, PickedSession):
            return
        self.clear_transcript()
        self.arcan.start_core(ConnectRequest(resume=choice.session_id, fork=choice.fork))
        if choice.rewind_turn is not None:
            self.submit(Rewind(turn_id=choice.rewind_turn))

    def show_mcp(self) -> None:
        """List the project's MCP servers; starting them to learn their tools runs in a worker."""
        self.say("asking the project's MCP servers…")
        self.run_worker(
            self._describe_mcp(),
            group="mcp",
            exclusive=True,
            name="listing MCP servers",
            exit_on_error=False,
        )

    async def _describe_mcp(self) -> None:
        # The MCP client (and its SDK) loads only when /mcp is used.
        from arcan_core.config import load_config  # noqa: PLC0415
        from arcan_core.mcp import describe_servers  # noqa: PLC0415
        from arcan_tui.commands.mcp_cmd import render  # noqa: PLC0415

        config = load_config(self.project_dir).config
        statuses = await describe_servers(workspace=self.project_dir, config=config)
        failed = any(status.state in ("failed", "crashed") for status in statuses)
        self.say(render(statuses).rstrip(), "warning" if failed else "info")

    def switch_theme(self, name: str | None) -> None:
        """Switch theme (the next one when ``name`` is ``None``) and remember it."""
        app = self.arcan
        names = app.arcan_themes
        if name is None:
            index = names.index(app.theme) if app.theme in names else -1
            name = names[(index + 1) % len(names)]
        if name not in app.available_themes:
            self.say(f"no theme {name!r}; themes: {', '.join(names)}", "warning")
            return
        app.theme = name
        if not self.options.remember_theme:
            self.say(f"theme {name}")
            return
        from arcan_tui.user_config import remember_theme  # noqa: PLC0415

        try:
            path = remember_theme(name, self.options.user_config)
        except (ArcanError, OSError) as error:
            self.say(f"theme {name} (not saved: {error})", "warning")
            return
        self.say(f"theme {name} (saved in {path})")

    def export_markdown(self, path: str | None) -> None:
        """Write the whole transcript (not only what is mounted) as Markdown."""
        from arcan_tui.transcript_data import to_markdown  # noqa: PLC0415 - not in the first frame

        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = Path(path) if path else Path(f"arcan-session-{stamp}.md")
        if not target.is_absolute():
            target = self.project_dir / target
        try:
            target.write_text(to_markdown(self.transcript.items), encoding="utf-8")
        except OSError as error:
            self.say(f"could not export: {error}", "error")
            return
        self.say(f"exported to {target}")

    def clear_transcript(self) -> None:
        """Clear the screen; the session log keeps everything."""
        self.transcript.clear_items()

    def new_conversation(self) -> None:
        """Open a new session with this one's provider, model, mode, harness and effort.

        The core is replaced rather than told to forget: a core is one session (its log, lock
        and checkpoints), so a fresh one is what ``arcan`` itself would open. The old session
        stays in the log for ``/resume``.
        """
        from arcan_tui.app import ConnectRequest  # noqa: PLC0415

        state = self.status.state
        core = self.arcan.core
        kept = f"; {core.session_id} is kept (/resume)" if core is not None else ""
        self.clear_transcript()
        self.router = None
        self._shell_context.clear()
        while (pending := self.approvals.current) is not None:
            self.approvals.discard(pending.call_id)
        self.set_status(
            busy=False,
            input_tokens=0,
            output_tokens=0,
            cost_usd=0.0,
            context_tokens=0,
            notice="",
        )
        self.arcan.start_core(
            ConnectRequest(
                provider=state.provider or None,
                model=state.model or None,
                mode=state.mode,
                harness=state.harness,
                effort=state.effort or None,
                fresh=True,
            )
        )
        self.say(f"new conversation{kept}")

    def cost_summary(self) -> str:
        """Tokens and cost so far."""
        state = self.status.state
        return (
            f"session: {state.input_tokens:,} input tokens, {state.output_tokens:,} output "
            f"tokens, ${state.cost_usd:.4f}"
        )

    def show_thinking(self, visible: bool | None) -> None:
        """Show or hide every thinking block (``None``: toggle), and remember the choice."""
        if visible is None:
            visible = self.has_class("-hide-thinking")
        self.set_class(not visible, "-hide-thinking")
        shown = "shown" if visible else "hidden"
        if not self.options.remember_theme:
            self.notify(f"thinking {shown}", timeout=2)
            return
        from arcan_tui.user_config import remember_ui  # noqa: PLC0415

        try:
            remember_ui("show_thinking", visible, self.options.user_config)
        except (ArcanError, OSError) as error:
            self.say(f"thinking {shown} (not saved: {error})", "warning")
            return
        self.notify(f"thinking {shown} (remembered)", timeout=2)

    def action_paste_image(self) -> None:
        """Ctrl+V: attach the clipboard's image (read off the UI thread, the tool may hang)."""
        self.run_worker(
            self._paste_image,
            thread=True,
            group="clipboard",
            exclusive=True,
            name="reading the clipboard",
            exit_on_error=False,
        )

    def _paste_image(self) -> None:
        from arcan_tui.clipboard import read_clipboard_image, save_attachment  # noqa: PLC0415

        try:
            image = read_clipboard_image()
            path = save_attachment(image, self.project_dir)
        except ArcanError as error:
            self.app.call_from_thread(self._no_clipboard_image, error)
            return
        except OSError as error:
            failed = ArcanError(f"could not save the pasted image: {error}", hint=None)
            self.app.call_from_thread(self._no_clipboard_image, failed)
            return
        self.app.call_from_thread(self._insert_attachment, path)

    def _no_clipboard_image(self, error: ArcanError) -> None:
        if self.app.clipboard:
            # Text copied inside arcan: Ctrl+V keeps pasting it, as it does in any text area.
            self.prompt.action_paste()
            return
        self.say(error.message + (f"\nhint: {error.hint}" if error.hint else ""), "warning")

    def _insert_attachment(self, path: Path) -> None:
        from arcan_tui.clipboard import attachment_marker  # noqa: PLC0415

        marker = attachment_marker(path, self.project_dir) or f"@{path}"
        self.prompt.insert(marker + " ")
        self.prompt.focus()
        self.notify(f"image attached: {marker[1:]}", timeout=3)

    def _attach_dropped_images(self, pasted: str) -> str | None:
        """A paste of nothing but image paths (dropped files): their ``@`` markers instead."""
        from arcan_tui.clipboard import (  # noqa: PLC0415
            ClipboardImage,
            attachment_marker,
            dropped_images,
            image_media_type,
            save_attachment,
        )

        paths = dropped_images(pasted, IMAGE_SUFFIXES)
        if paths is None:
            return None
        markers: list[str] = []
        for path in paths:
            marker = attachment_marker(path, self.project_dir)
            if marker is None:
                # A path with spaces cannot be an @ word: attach a copy under a plain name.
                try:
                    data = path.read_bytes()
                    media = image_media_type(data)
                    if media is None:
                        return None
                    copy = save_attachment(ClipboardImage(data, media, "drop"), self.project_dir)
                except (OSError, ArcanError):
                    return None
                marker = attachment_marker(copy, self.project_dir) or f"@{copy}"
            markers.append(marker)
        self.notify(f"attached {len(markers)} image(s)", timeout=3)
        return " ".join(markers) + " "

    def quit(self) -> None:
        """Leave arcan (the core is shut down first)."""
        self.run_worker(
            self.arcan.action_quit(), group="quit", name="quitting", exit_on_error=False
        )

    # -- actions ------------------------------------------------------------------------------

    def action_interrupt(self) -> None:
        """Esc: close the reason input, or interrupt the running turn."""
        if self.approvals.cancel_reason():
            return
        if self.router is not None and self.router.busy:
            from arcan_core.protocol.operations import Interrupt  # noqa: PLC0415

            self.submit(Interrupt())

    def action_help(self) -> None:
        """F1."""
        self.show_help()

    def action_toggle_sensors(self) -> None:
        """F2: show or hide the sensor panel."""
        self.toggle_class("-sensors")

    def action_toggle_thinking(self) -> None:
        """Ctrl+T."""
        self.show_thinking(None)

    async def action_load_earlier(self) -> None:
        """Mount a batch of older transcript items."""
        await self.transcript.load_earlier()

    def action_follow(self) -> None:
        """Scroll to the end and follow new output again."""
        self.transcript.scroll_end(animate=False)
        self.transcript.anchor()

    async def action_transcript_page_up(self) -> None:
        """Scroll the transcript up a page; at the top, mount earlier items."""
        if self.transcript.scroll_y <= 0:
            await self.transcript.load_earlier()
            return
        self.transcript.scroll_page_up(animate=False)

    def action_transcript_page_down(self) -> None:
        """Scroll the transcript down a page."""
        self.transcript.scroll_page_down(animate=False)

    def action_edit_in_editor(self) -> None:
        """Ctrl+G: edit the prompt in ``$VISUAL``/``$EDITOR``."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as f:
            f.write(self.prompt.text)
            path = Path(f.name)
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(path)], check=False)  # noqa: S603
            self.prompt.set_text(path.read_text(encoding="utf-8").rstrip("\n"))
        except (OSError, ValueError) as error:
            self.say(f"could not run the editor {editor!r}: {error}", "warning")
        finally:
            path.unlink(missing_ok=True)
        self.prompt.focus()
