"""arcan as an Agent Client Protocol agent: the editor is a front-end like the TUI.

Each ACP session is one arcan session with its own core (``open_core``): a prompt request
submits ``SubmitPrompt`` and resolves when the core publishes ``TurnFinished``; meanwhile a pump
task turns every core event into session updates (see ``translate``). An approval becomes a
``session/request_permission`` request, and the chosen option comes back as ``AnswerApproval``.

Every method of ``acp.Agent`` is written out with the library's exact signature: the library
answers a missing method with an empty result, which an editor would take for success. Methods
arcan does not support (forking, config options, authentication methods it never advertised)
answer with a JSON-RPC error that says so.

MCP servers: the project's (``.mcp.json`` and config) and those the editor passes in
``session/new`` start through ``arcan_core.mcp`` before the core opens, so their tools are
registered beside the built-ins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Literal, get_args

from acp.exceptions import RequestError
from acp.helpers import update_agent_message_text
from acp.meta import PROTOCOL_VERSION
from acp.schema import (
    AcpMcpServer,
    AgentCapabilities,
    AllowedOutcome,
    AudioContentBlock,
    AuthenticateResponse,
    ClientCapabilities,
    CloseSessionResponse,
    EmbeddedResourceContentBlock,
    ForkSessionResponse,
    HttpMcpServer,
    ImageContentBlock,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    McpServerStdio,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    ResourceContentBlock,
    ResumeSessionResponse,
    SessionCapabilities,
    SessionCloseCapabilities,
    SessionInfo,
    SessionInfoUpdate,
    SessionListCapabilities,
    SessionMode,
    SessionModeState,
    SessionResumeCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
    SseMcpServer,
    TextContentBlock,
)
from acp.schema import Usage as AcpUsage

from arcan_core import __version__
from arcan_core.acp.commands import SlashCommand, available_commands, outcome_line, parse_command
from arcan_core.acp.translate import (
    MODES,
    EventTranslator,
    builtin_categories,
    permission_options,
    prompt_to_arcan,
    replay_messages,
    resolve_path,
)
from arcan_core.config.model import McpServerConfig
from arcan_core.errors import ArcanError, SessionNotFoundError, UsageError
from arcan_core.protocol.events import (
    ErrorEvent,
    ToolCallAwaitingApproval,
    TurnFinished,
    Warning,  # noqa: A004 - the protocol's name for the event
)
from arcan_core.protocol.operations import (
    AnswerApproval,
    ApprovalMode,
    Interrupt,
    SetMode,
    Shutdown,
    SubmitPrompt,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence
    from pathlib import Path

    from acp.interfaces import Agent, Client

    from arcan_core.acp.translate import PromptBlock, SessionUpdate
    from arcan_core.agent.api import CoreHandle
    from arcan_core.agent.session import CoreOptions
    from arcan_core.config.model import ArcanConfig
    from arcan_core.mcp import McpManager
    from arcan_core.protocol.events import EventMsg
    from arcan_core.protocol.messages import Message, StopReason

__all__ = ["AcpSession", "ArcanAgent"]

log = logging.getLogger("arcan.acp")

AcpStopReason = Literal["end_turn", "max_tokens", "max_turn_requests", "refusal", "cancelled"]
McpServerParam = HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio

_STOP_REASONS: dict[StopReason, AcpStopReason] = {
    "end_turn": "end_turn",
    "tool_use": "end_turn",
    "stop_sequence": "end_turn",
    "max_tokens": "max_tokens",
    "refusal": "refusal",
    "interrupted": "cancelled",
    # The error itself reached the editor as a message; the turn is over.
    "error": "end_turn",
}


_MODE_IDS: dict[str, ApprovalMode] = {mode: mode for mode in get_args(ApprovalMode)}


def _modes(current: str) -> SessionModeState:
    return SessionModeState(
        current_mode_id=current,
        available_modes=[
            SessionMode(id=mode_id, name=name, description=description)
            for mode_id, (name, description) in MODES.items()
        ],
    )


def _request_error(error: ArcanError) -> RequestError:
    """An arcan error as the JSON-RPC error an editor shows: the message, with the hint."""
    data: dict[str, Any] = {"message": error.message}
    if error.hint:
        data["hint"] = error.hint
    code = -32002 if isinstance(error, SessionNotFoundError) else -32603
    text = f"{error.message} ({error.hint})" if error.hint else error.message
    return RequestError(code, text, data)


def mcp_configs(
    servers: Sequence[McpServerParam] | None,
) -> tuple[dict[str, McpServerConfig], list[str]]:
    """Turn the editor's MCP servers into arcan server configs, with notes on skipped ones."""
    configs: dict[str, McpServerConfig] = {}
    notes: list[str] = []
    for server in servers or ():
        if isinstance(server, McpServerStdio):
            configs[server.name] = McpServerConfig(
                command=server.command,
                args=tuple(server.args),
                env={variable.name: variable.value for variable in server.env},
            )
        elif isinstance(server, HttpMcpServer):
            configs[server.name] = McpServerConfig(
                url=server.url, headers={header.name: header.value for header in server.headers}
            )
        else:
            notes.append(
                f"MCP server {server.name!r}: its transport is not supported by arcan "
                "(use stdio or streamable HTTP)"
            )
    return configs, notes


class AcpSession:
    """One editor session over one arcan core.

    Args:
        client: the connection to the editor.
        core: the session's running core.
        workspace: the project root.
        mcp: the session's MCP servers (stopped when the session closes).
        categories: tool name -> arcan category, for the kinds the editor shows.
        notes: lines for the editor, shown when the next prompt starts; the list is shared with
            whoever reports (the MCP manager's ``notify``), so later reports are shown too.
        titled: the session has a title already (a resumed one); a new one sends its title
            after its first prompt.
    """

    def __init__(
        self,
        client: Client,
        core: CoreHandle,
        *,
        workspace: Path,
        mcp: McpManager | None = None,
        categories: Mapping[str, str] | None = None,
        notes: list[str] | None = None,
        titled: bool = False,
    ) -> None:
        self.id = core.session_id
        self._titled = titled
        self.workspace = workspace
        self._client = client
        self._core = core
        self._mcp = mcp
        self._translator = EventTranslator(workspace, categories or {})
        self._turn: asyncio.Future[TurnFinished] | None = None
        self._command: tuple[tuple[type[Any], ...], asyncio.Future[EventMsg | None]] | None = None
        self._cancelled = False
        self._asking: set[asyncio.Task[None]] = set()
        self._asked: set[str] = set()
        self._pending_notes = notes if notes is not None else []
        self._events = core.subscribe()
        self._pump = asyncio.create_task(self._run(), name=f"acp-pump-{self.id}")

    def note(self, text: str) -> None:
        """Queue a line for the editor; it is shown when the next prompt starts."""
        self._pending_notes.append(text)

    async def send(self, update: SessionUpdate) -> None:
        """Send one session update to the editor."""
        await self._client.session_update(session_id=self.id, update=update)

    async def prompt(self, blocks: Sequence[PromptBlock]) -> PromptResponse:
        """Run one prompt turn; return why it stopped and the tokens it used.

        Raises:
            RequestError: a prompt is already running, or the core stopped mid-turn.
        """
        if self._turn is not None and not self._turn.done():
            raise RequestError.invalid_request({"message": "a prompt is already running"})
        for line in self._pending_notes:
            await self.send(update_agent_message_text(f"> {line}\n\n"))
        self._pending_notes.clear()
        text, images = prompt_to_arcan(blocks)
        command = parse_command(text.strip()) if not images else None
        if command is not None:
            return await self._run_command(*command)
        self._cancelled = False
        self._turn = asyncio.get_running_loop().create_future()
        self._core.submit(SubmitPrompt(text=text, images=images))
        finished = await self._turn
        if not self._titled:
            await self._send_title()
        usage = finished.usage
        return PromptResponse(
            stop_reason="cancelled" if self._cancelled else _STOP_REASONS[finished.stop_reason],
            usage=AcpUsage(
                total_tokens=usage.context_tokens + usage.output_tokens,
                input_tokens=usage.context_tokens,
                output_tokens=usage.output_tokens,
                cached_read_tokens=usage.cache_read_tokens,
                cached_write_tokens=usage.cache_write_tokens,
            ),
        )

    async def _send_title(self) -> None:
        """Give the editor the session's title once the store has one (after the first prompt)."""
        from arcan_core.store import ProjectPaths, read_summary  # noqa: PLC0415

        try:
            summary = read_summary(ProjectPaths(self.workspace), self.id)
        except ArcanError:
            return
        if summary.title:
            self._titled = True
            await self.send(
                SessionInfoUpdate(
                    session_update="session_info_update",
                    title=summary.title,
                    updated_at=summary.updated.isoformat(),
                )
            )

    async def _run_command(self, command: SlashCommand, argument: str) -> PromptResponse:
        """Run a slash command as one operation; its outcome event is the answer."""
        try:
            operation = command.operation(argument)
        except UsageError as error:
            await self.send(update_agent_message_text(error.message))
            return PromptResponse(stop_reason="end_turn")
        outcome: asyncio.Future[EventMsg | None] = asyncio.get_running_loop().create_future()
        self._command = ((*command.outcomes, Warning, ErrorEvent), outcome)
        try:
            self._core.submit(operation)
            msg = await outcome
        finally:
            self._command = None
        if msg is None:
            return PromptResponse(stop_reason="cancelled")
        await self.send(update_agent_message_text(outcome_line(msg) or ""))
        return PromptResponse(stop_reason="end_turn")

    def cancel(self) -> None:
        """Interrupt the running turn (the prompt then answers ``cancelled``)."""
        if self._command is not None and not self._command[1].done():
            # A command's operation runs to its end in the core; the prompt stops waiting.
            self._command[1].set_result(None)
        if self._turn is not None and not self._turn.done():
            self._cancelled = True
            self._core.submit(Interrupt())

    def set_mode(self, mode: ApprovalMode) -> None:
        """Change the approval mode; the core confirms with ``ModeChanged``."""
        self._core.submit(SetMode(mode=mode))

    async def close(self) -> None:
        """Shut the core down, wait for its log to be flushed, and stop the MCP servers."""
        self.cancel()
        self._core.submit(Shutdown())
        await self._core.wait_closed()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        for task in list(self._asking):
            task.cancel()
        if self._mcp is not None:
            await self._mcp.aclose()

    # -- the pump -------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            # Queued after the response that created the session, so the editor knows the id.
            await self.send(available_commands())
            async for event in self._events:
                await self._handle(event.msg, nested=event.parent_call_id is not None)
        except ConnectionError:
            log.warning("the editor went away; session %s stops sending updates", self.id)
        finally:
            if self._turn is not None and not self._turn.done():
                self._turn.set_exception(
                    RequestError.internal_error({"message": "the arcan core stopped mid-turn"})
                )

    async def _handle(self, msg: EventMsg, *, nested: bool = False) -> None:
        """Send the updates of one event; ``nested`` marks a sub-agent's event.

        A sub-agent's approvals are asked like any other, but the rest of its events stay out
        of the editor's transcript (its parent tool call shows the result) and its
        ``TurnFinished`` does not end the prompt.
        """
        if isinstance(msg, ToolCallAwaitingApproval) and msg.call_id not in self._asked:
            # One question per call, even if the request is published more than once; asked in
            # its own task: the editor may take minutes, and the pump keeps streaming.
            self._asked.add(msg.call_id)
            task = asyncio.create_task(self._ask(msg), name=f"acp-ask-{msg.call_id}")
            self._asking.add(task)
            task.add_done_callback(self._asking.discard)
        if nested:
            return
        command = self._command
        if command is not None and isinstance(msg, command[0]) and not command[1].done():
            command[1].set_result(msg)  # the command's answer carries this event's line
            return
        for update in self._translator.updates(msg):
            await self.send(update)
        if isinstance(msg, TurnFinished) and self._turn is not None and not self._turn.done():
            self._turn.set_result(msg)

    async def _ask(self, msg: ToolCallAwaitingApproval) -> None:
        options, answers = permission_options(msg.call_id, msg.request)
        try:
            response = await self._client.request_permission(
                session_id=self.id,
                tool_call=self._translator.approval_call(msg),
                options=options,
            )
        except (RequestError, ConnectionError) as error:
            answer = AnswerApproval(
                call_id=msg.call_id,
                decision="deny",
                reason=f"the editor could not ask the user: {error}",
            )
        else:
            outcome = response.outcome
            chosen = answers.get(outcome.option_id) if isinstance(outcome, AllowedOutcome) else None
            answer = chosen or AnswerApproval(
                call_id=msg.call_id, decision="deny", reason="the user cancelled in the editor"
            )
        self._core.submit(answer)


class ArcanAgent:
    """The ACP agent: sessions by id, each an ``AcpSession`` over its own core.

    Args:
        flags: command-line config values (provider, model, mode…) applied to every session.
        open_core: how to start a core (``arcan_core.agent.session.open_core``; tests may wrap it).
        load_config: how to resolve a project's configuration.
    """

    def __init__(
        self,
        *,
        flags: Mapping[str, object] | None = None,
        open_core: Callable[[CoreOptions], Awaitable[CoreHandle]] | None = None,
        load_config: Callable[[Path], ArcanConfig] | None = None,
    ) -> None:
        self._flags = dict(flags or {})
        self._open_core = open_core
        self._load_config = load_config
        self._client: Client | None = None
        self._sessions: dict[str, AcpSession] = {}
        self._categories: dict[str, str] | None = None

    # -- acp.Agent ------------------------------------------------------------------------------

    def on_connect(self, conn: Client) -> None:
        """Keep the connection to the editor."""
        self._client = conn

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        """Agree on protocol version 1 and say what arcan can do."""
        del client_capabilities, kwargs
        if client_info is not None:
            log.info("editor: %s %s", client_info.name, client_info.version)
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(
                    image=True, audio=False, embedded_context=True
                ),
                mcp_capabilities=McpCapabilities(http=True, sse=False),
                session_capabilities=SessionCapabilities(
                    list=SessionListCapabilities(),
                    resume=SessionResumeCapabilities(),
                    close=SessionCloseCapabilities(),
                ),
            ),
            agent_info=Implementation(name="arcan", title="arcan", version=__version__),
            auth_methods=[],
        )

    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio]
        | None = None,
        **kwargs: Any,
    ) -> NewSessionResponse:
        """Start a new arcan session in ``cwd``."""
        del kwargs
        session, mode = await self._open(cwd, "new", additional_directories, mcp_servers)
        return NewSessionResponse(session_id=session.id, modes=_modes(mode))

    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: list[HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio]
        | None = None,
        additional_directories: list[str] | None = None,
        **kwargs: Any,
    ) -> LoadSessionResponse | None:
        """Resume a session from ``.arcan/`` and replay its conversation to the editor."""
        del kwargs
        session, mode = await self._open(
            cwd, session_id, additional_directories, mcp_servers, replay=True
        )
        del session
        return LoadSessionResponse(modes=_modes(mode))

    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any
    ) -> ListSessionsResponse:
        """List the sessions of the project ``cwd`` (newest first)."""
        del cursor, kwargs
        from arcan_core.store import list_sessions  # noqa: PLC0415

        if cwd is None:
            raise RequestError.invalid_params(
                {"message": "arcan lists sessions per project: give cwd"}
            )
        project = resolve_path(cwd)
        summaries = list_sessions(project)
        return ListSessionsResponse(
            sessions=[
                SessionInfo(
                    session_id=summary.id,
                    cwd=str(project),
                    title=summary.title or None,
                    updated_at=summary.updated.isoformat(),
                )
                for summary in summaries
            ]
        )

    async def set_session_mode(
        self, session_id: str, mode_id: str, **kwargs: Any
    ) -> SetSessionModeResponse | None:
        """Switch the session's approval mode."""
        del kwargs
        mode = _MODE_IDS.get(mode_id)
        if mode is None:
            raise RequestError.invalid_params(
                {"message": f"unknown mode {mode_id!r}", "modes": list(MODES)}
            )
        self._session(session_id).set_mode(mode)
        return SetSessionModeResponse()

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> SetSessionConfigOptionResponse | None:
        """Arcan advertises no config options; say so rather than answer empty."""
        del session_id, value, kwargs
        raise RequestError.invalid_params({"message": f"arcan has no config option {config_id!r}"})

    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse | None:
        """Arcan advertises no auth methods: keys come from the environment or keys.toml."""
        del kwargs
        raise RequestError.invalid_params(
            {
                "message": f"arcan has no authentication method {method_id!r}",
                "hint": "set ANTHROPIC_API_KEY or OPENAI_API_KEY where the editor starts arcan",
            }
        )

    async def prompt(
        self,
        session_id: str,
        prompt: list[
            TextContentBlock
            | ImageContentBlock
            | AudioContentBlock
            | ResourceContentBlock
            | EmbeddedResourceContentBlock
        ],
        **kwargs: Any,
    ) -> PromptResponse:
        """Run one prompt turn; updates stream while it runs."""
        del kwargs
        return await self._session(session_id).prompt(prompt)

    async def fork_session(
        self,
        session_id: str,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio]
        | None = None,
        **kwargs: Any,
    ) -> ForkSessionResponse:
        """Forking is not offered (not in the capabilities); answer with an error."""
        del session_id, cwd, additional_directories, mcp_servers, kwargs
        raise RequestError.method_not_found("session/fork")

    async def resume_session(
        self,
        session_id: str,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio]
        | None = None,
        **kwargs: Any,
    ) -> ResumeSessionResponse:
        """Resume a session without replaying its conversation."""
        del kwargs
        _, mode = await self._open(cwd, session_id, additional_directories, mcp_servers)
        return ResumeSessionResponse(modes=_modes(mode))

    async def close_session(self, session_id: str, **kwargs: Any) -> CloseSessionResponse | None:
        """Close a session: its core shuts down and its log is flushed."""
        del kwargs
        session = self._sessions.pop(session_id, None)
        if session is None:
            raise RequestError.resource_not_found(session_id)
        await session.close()
        return CloseSessionResponse()

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        """Interrupt the session's running turn (a notification: no answer)."""
        del kwargs
        session = self._sessions.get(session_id)
        if session is not None:
            session.cancel()

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Arcan has no extension methods."""
        del params
        raise RequestError.method_not_found(f"_{method}")

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        """Extension notifications are ignored (they need no answer)."""
        del params
        log.info("ignored extension notification _%s", method)

    # -- lifecycle ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close every session (at the end of the connection)."""
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)

    def _session(self, session_id: str) -> AcpSession:
        session = self._sessions.get(session_id)
        if session is None:
            raise RequestError.resource_not_found(session_id)
        return session

    def _config(self, project: Path, extra_dirs: Sequence[str] | None) -> ArcanConfig:
        if self._load_config is not None:
            config = self._load_config(project)
        else:
            from arcan_core.config import load_config  # noqa: PLC0415

            config = load_config(project, flags=self._flags).config
        if extra_dirs:
            roots = (*config.permissions.extra_roots, *extra_dirs)
            permissions = config.permissions.model_copy(update={"extra_roots": roots})
            config = config.model_copy(update={"permissions": permissions})
        return config

    async def _open(
        self,
        cwd: str,
        resume: str,
        extra_dirs: Sequence[str] | None,
        servers: Sequence[McpServerParam] | None,
        *,
        replay: bool = False,
    ) -> tuple[AcpSession, str]:
        """Open a core for ``cwd`` (new, or resuming ``resume``) with its MCP servers."""
        from arcan_core.agent.session import CoreOptions, open_core  # noqa: PLC0415
        from arcan_core.mcp import McpManager  # noqa: PLC0415

        if self._client is None:  # pragma: no cover - the connection calls on_connect first
            raise RequestError.internal_error({"message": "not connected"})
        project = resolve_path(cwd)
        if resume in self._sessions:
            # The editor loads a session this process has open: reopen it from its log.
            await self._sessions.pop(resume).close()
        notes: list[str] = []
        try:
            config = self._config(project, extra_dirs)
            history = _load_history(project, resume) if resume != "new" else None
            extra, skipped = mcp_configs(servers)
            notes.extend(skipped)
            manager = McpManager.from_config(project, config, extra=extra, notify=notes.append)
            tools = await manager.tools()
            opener = self._open_core or open_core
            # This manager holds the editor's servers too, so the core must not start its own.
            options = CoreOptions(
                project_dir=project,
                config=config,
                resume=resume,
                extra_tools=tuple(tools),
                mcp=False,
            )
            try:
                core = await opener(options)
            except BaseException:
                await manager.aclose()
                raise
        except ArcanError as error:
            raise _request_error(error) from error
        categories = self._tool_categories()
        categories.update({tool.name: tool.category for tool in tools})
        session = AcpSession(
            self._client,
            core,
            workspace=project,
            mcp=manager,
            categories=categories,
            notes=notes,
            titled=history is not None,
        )
        self._sessions[session.id] = session
        mode: str = config.mode
        if history is not None:
            messages, loaded_mode = history
            mode = loaded_mode or mode
            if replay:
                for update in replay_messages(messages, project, categories):
                    await session.send(update)
        return session, mode

    def _tool_categories(self) -> dict[str, str]:
        if self._categories is None:
            self._categories = builtin_categories()
        return dict(self._categories)


def _load_history(project: Path, session_id: str) -> tuple[list[Message], ApprovalMode | None]:
    """Read a session's conversation and mode from its log (before the core reopens it)."""
    from arcan_core.store import ProjectPaths, load_session, rebuild, resolve_session_id  # noqa: PLC0415

    resolved = resolve_session_id(project, session_id)
    loaded = load_session(ProjectPaths(project).session_log(resolved))
    state = rebuild(loaded.header, loaded.events)
    return list(state.messages), state.mode


def _conforms(agent: ArcanAgent) -> Agent:
    """Let mypy check that ``ArcanAgent`` matches the library's ``Agent`` protocol exactly."""
    return agent
