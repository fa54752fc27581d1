"""Starting a core: from a project, a config and a resume choice to a running ``CoreHandle``.

Every front-end starts its core here (the TUI, ``arcan exec``, ``arcan shell``, the ACP adapter):

    options = CoreOptions(project_dir=Path.cwd(), config=resolved.config, resume="continue")
    core = await open_core(options)
    events = core.subscribe()
    core.submit(SubmitPrompt(text="fix the failing test"))
    ...
    core.submit(Shutdown())
    await core.wait_closed()

A new session gets a fresh id and log; ``resume="continue"`` takes the project's latest session and
any other string is a session id (or a unique prefix of one). A resumed session rebuilds its
conversation from the log, closes a task that a crash left open, and repairs the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from arcan_core.agent.agents import discover_agent_profiles
from arcan_core.agent.approvals import HeadlessAsker, InteractiveAsker
from arcan_core.agent.bus import EventBus, is_logged
from arcan_core.agent.checkpoints import Checkpoints
from arcan_core.agent.conversation import IncrementalRepair, repair, view_message
from arcan_core.agent.daemon import CoreDaemon
from arcan_core.agent.fork import fork_session
from arcan_core.agent.lifecycle import AgentBuilder
from arcan_core.agent.prompt import Environment, build_system_prompt
from arcan_core.agent.skills import SkillTool, discover_skills
from arcan_core.agent.state import AgentParts, AgentState, RequestSettings, ToolSystem, TurnLimits
from arcan_core.agent.subagent import SubAgents, task_tool
from arcan_core.agent.supervisor import TurnSupervisor
from arcan_core.config.model import ArcanConfig
from arcan_core.errors import SessionNotFoundError, StoreError
from arcan_core.protocol.events import (
    HarnessToggled,
    MessageAppended,
    SensorReading,
    SessionSaved,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.providers.base import ModelInfo, Provider
from arcan_core.tools.base import Tool

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence  # noqa: TC004 - annotations are strings here

    from arcan_core.harness.loop import Harness
    from arcan_core.mcp import McpManager
    from arcan_core.protocol.events import Event, EventMsg  # noqa: TC004
    from arcan_core.protocol.messages import Message
    from arcan_core.protocol.operations import ApprovalMode
    from arcan_core.providers.base import ToolSpec
    from arcan_core.store import SessionWriter  # noqa: TC004
    from arcan_core.tools.base import ApprovalAsker, EventSink, ToolCallRequest, ToolOutcome

__all__ = ["CoreOptions", "has_mcp_servers", "open_core"]

Resume = Literal["new", "continue"] | str


@dataclass(frozen=True)
class CoreOptions:
    """Everything ``open_core`` needs. Build one, then ``dataclasses.replace`` to vary it.

    Attributes:
        project_dir: the workspace; the session store lives in its ``.arcan/``.
        config: the resolved configuration.
        resume: ``"new"``, ``"continue"`` (the latest session) or a session id or prefix.
        interactive: approvals go out as events and wait for ``AnswerApproval`` operations; when
            false (headless) every call needing approval is denied with a reason.
        extra_tools: more tools for the model (MCP tools), registered beside the built-ins.
        supervisor: consulted after each model step while the harness is on (see ``supervisor``).
        harness_enabled: the harness setting of a new session (a resumed one keeps its own).
        limits: budgets of one task; ``None`` takes them from ``config.harness``.
        checkpoints: snapshot the working tree at each prompt (for undo and rewind).
        persist: write the session log (off only for benchmarks and throwaway sub-agents).
        provider: a ready provider instead of the configured one (tests, sub-agents).
        model_info: the model's limits and prices instead of the registry's.
        tools: a ready tool system instead of the built-in registry and executor.
        env: the environment to read keys from and to start shell commands in (default: the
            process's).
        home: the user's home, where ``~/.agents/skills`` is looked up.
        title: the title of a new session (default: from its first prompt).
        mcp: start the project's MCP servers (``.mcp.json``, ``[mcp_servers]``) with the core,
            offer their tools and stop them with it; off for a front-end that runs its own
            manager (the ACP adapter, which adds the editor's servers) or a ready ``tools``.
        live_checks: when the project has checks or hooks (configured or detected) and no
            ``supervisor`` is given, build a ``Harness`` with the core: its readings are live
            (the watcher re-runs checks as files change) whether or not the harness drives a
            task, its hooks and the stale-edit guard wrap the tools, and ``SetHarness`` turns it
            on as the supervisor of the following tasks. On for the interactive front-ends;
            ``arcan exec`` without ``--until-green`` turns it off (no check runs it would not
            wait for); configured hooks still guard the tools then (a harness is built, never
            started).
    """

    project_dir: Path
    config: ArcanConfig
    resume: Resume = "new"
    interactive: bool = True
    extra_tools: tuple[Tool[Any], ...] = ()
    supervisor: TurnSupervisor | None = None
    harness_enabled: bool = False
    limits: TurnLimits | None = None
    checkpoints: bool = True
    persist: bool = True
    provider: Provider | None = None
    model_info: ModelInfo | None = None
    tools: ToolSystem | None = None
    env: Mapping[str, str] | None = None
    home: Path | None = None
    title: str = ""
    fork: bool = False
    """Open a new session forked from the one ``resume`` names (that one stays as it was)."""
    fork_before: str | None = None
    """With ``fork``: cut the copy before this turn's prompt (``None``: copy it all)."""
    sub_agents: bool = True
    """Offer the ``task`` tool (read-only sub-agents); needs the built-in tool system."""
    extra_system: str | None = field(default=None)
    """Text appended to the system prompt (a front-end's own conventions)."""
    mcp: bool = True
    live_checks: bool = True
    read_batch_s: float = 0.0
    """Read streamed replies at most this often (see ``ProviderSettings.read_batch_s``): for a
    front-end that shows no deltas; 0 reads each as it arrives."""

    def replace(self, **changes: Any) -> CoreOptions:
        """Return a copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


class RegistryTools:
    """The ``ToolSystem`` over the tool registry and the executor of the tools package."""

    def __init__(self, registry: Any, executor: Any) -> None:
        self.registry = registry
        self.executor = executor

    def specs(self, mode: ApprovalMode) -> tuple[ToolSpec, ...]:
        """Return the tools offered in ``mode``."""
        specs: tuple[ToolSpec, ...] = self.registry.specs(mode)
        return specs

    def set_mode(self, mode: ApprovalMode) -> None:
        """Apply ``mode`` to later calls."""
        self.executor.set_mode(mode)

    async def run_batch(
        self, calls: Sequence[ToolCallRequest], *, emit: EventSink, ask: ApprovalAsker
    ) -> list[ToolOutcome]:
        """Run one step's calls through the executor."""
        outcomes: list[ToolOutcome] = await self.executor.run_batch(list(calls), emit=emit, ask=ask)
        return outcomes


def _limits(options: CoreOptions) -> TurnLimits:
    if options.limits is not None:
        return options.limits
    harness = options.config.harness
    return TurnLimits(
        max_steps=harness.max_turns,
        max_cost_usd=harness.max_cost_usd,
        max_tokens=harness.max_tokens,
    )


def _provider(options: CoreOptions, name: str | None, model: str | None) -> tuple[Provider, str]:
    if options.provider is not None:
        return options.provider, model or options.provider.default_model
    from arcan_core.providers.registry import create_provider, settings_for  # noqa: PLC0415

    config = options.config
    if name is not None and name != config.provider:
        config = config.model_copy(update={"provider": name})
    settings = settings_for(config, env=options.env)
    if options.read_batch_s:
        settings = settings.model_copy(update={"read_batch_s": options.read_batch_s})
    provider = create_provider(settings)
    return provider, model or config.model or provider.default_model


def _model_info(options: CoreOptions, provider: Provider, model: str) -> ModelInfo:
    if options.model_info is not None:
        return options.model_info
    from arcan_core.providers.models import model_info  # noqa: PLC0415 - loaded on demand

    info: ModelInfo = model_info(provider.name, model, options.config.models)
    return info


def _tools(
    options: CoreOptions,
    workspace: Path,
    mode: ApprovalMode,
    skills: list[Any],
    harness: Harness | None = None,
) -> tuple[ToolSystem, SubAgents | None]:
    if options.tools is not None:
        return _hooked(options.tools, harness), None
    # The tool system is imported here: a front-end that never opens a core never pays for it.
    from arcan_core.tools.executor import ToolExecutor  # noqa: PLC0415
    from arcan_core.tools.policy import ApprovalPolicy  # noqa: PLC0415
    from arcan_core.tools.registry import default_registry  # noqa: PLC0415
    from arcan_core.tools.sandbox import default_sandbox  # noqa: PLC0415

    registry = default_registry()
    for tool in options.extra_tools:
        registry.register(tool)
    if skills:
        registry.register(SkillTool(skills))
    policy = ApprovalPolicy.load(workspace, options.config.permissions)
    # Probed once per core (it may start bwrap); shared by the session's and sub-agents' executors.
    sandbox = default_sandbox(options.config.sandbox)
    env = dict(options.env) if options.env is not None else None

    def tools_for(tools_mode: ApprovalMode) -> ToolSystem:
        executor = ToolExecutor(
            registry, workspace=workspace, policy=policy, mode=tools_mode, sandbox=sandbox, env=env
        )
        return RegistryTools(registry, executor)

    sub_agents = None
    if options.sub_agents:
        sub_agents = SubAgents(tools_for, discover_agent_profiles(workspace, options.home))
        registry.register(task_tool(sub_agents))
    return _hooked(tools_for(mode), harness), sub_agents


def _hooked(tools: ToolSystem, harness: Harness | None) -> ToolSystem:
    """Wrap ``tools`` in the harness's hooks and stale-edit guard (sub-agents only read)."""
    if harness is None:
        return tools
    from arcan_core.harness.hooks import HookedTools  # noqa: PLC0415

    hooked: ToolSystem = HookedTools(tools, harness.hooks, reads=harness.reads)
    return hooked


def _resolve_id(options: CoreOptions) -> str | None:
    if options.resume == "new":
        return None
    from arcan_core.store import latest_session, resolve_session_id  # noqa: PLC0415

    if options.resume == "continue":
        latest = latest_session(options.project_dir)
        if latest is None:
            raise SessionNotFoundError(
                f"no session to continue in {options.project_dir}",
                hint="start one with `arcan` or `arcan exec PROMPT`",
            )
        return latest
    return resolve_session_id(options.project_dir, options.resume)


def _repair_loaded(messages: list[Message], bus: EventBus) -> list[Message]:
    """Repair a loaded conversation; record additions in the log so replay sees them too."""
    fixed = repair(messages)
    if not fixed.changed:
        return messages
    repaired = list(fixed.messages)
    if repaired[: len(messages)] == messages:
        # Typically a crash mid-task: results for the dangling calls are appended as records,
        # so the log itself is whole again.
        for message in repaired[len(messages) :]:
            bus.publish(MessageAppended(message=message))
    for note in dict.fromkeys(fixed.notes):
        bus.publish(WarningEvent(message=f"conversation repaired on load: {note}"))
    return repaired


@dataclass
class _Opened:
    """A session's log opened (or created) and its state rebuilt."""

    session_id: str
    writer: SessionWriter | None
    state: AgentState
    provider: Provider
    model: str
    history: Sequence[Event] = ()
    next_seq: int = 0
    open_turn: str | None = None
    forked_from: str | None = None
    create_log: Callable[[Sequence[Event]], SessionWriter] | None = None
    """For a new session: creates its log on the first record that matters (see ``_LogSink``)."""
    harness_was_on: bool = False
    """The log left the harness on (a resumed session starts with it off)."""
    reasoning_effort: str | None = None
    """The effort the log last set (``/effort``); ``None``: the configured one."""


def _open_session(options: CoreOptions, workspace: Path) -> _Opened:
    from arcan_core import __version__  # noqa: PLC0415
    from arcan_core.protocol.records import SessionHeader  # noqa: PLC0415
    from arcan_core.store import (  # noqa: PLC0415
        ProjectPaths,
        SessionWriter,
        new_session_id,
    )

    paths = ProjectPaths(workspace)
    session_id = _resolve_id(options)
    if session_id is None:
        state = AgentState(mode=options.config.mode, harness_enabled=options.harness_enabled)
        provider, model = _provider(options, None, None)
        session_id = new_session_id()
        if not options.persist:
            return _Opened(session_id, None, state, provider, model)
        header = SessionHeader(
            session_id=session_id,
            arcan_version=__version__,
            created=datetime.now(UTC),
            cwd=str(workspace),
            provider=provider.name,
            model=model,
            title=options.title,
        )
        return _Opened(
            session_id,
            None,
            state,
            provider,
            model,
            create_log=lambda records: SessionWriter.create(paths, header, records=records),
        )
    forked_from = None
    if options.fork:
        writer, events = fork_session(
            paths, session_id, before_turn=options.fork_before, title=options.title
        )
        forked_from = session_id
    else:
        writer = SessionWriter.open_existing(paths, session_id)
        assert writer.loaded is not None  # noqa: S101 - open_existing always loads
        events = writer.loaded.events
    try:
        return _resumed(options, writer, events, forked_from)
    except BaseException:
        writer.close()
        raise


def _resumed(
    options: CoreOptions, writer: SessionWriter, events: list[Event], forked_from: str | None
) -> _Opened:
    from arcan_core.store import rebuild  # noqa: PLC0415

    rebuilt = rebuild(writer.header, events)
    provider, model = _provider(options, rebuilt.provider, rebuilt.model)
    state = AgentState(
        mode=rebuilt.mode or options.config.mode,
        messages=list(rebuilt.messages),
        session_usage=rebuilt.usage,
        session_cost_usd=rebuilt.cost_usd,
        # A resumed session never restarts a harnessed loop on its own: the harness is on only
        # if this front-end asks for it now (``exec --until-green --resume``), whatever the log
        # says; a log that had it on gets a ``HarnessToggled(False)`` record (``_bus``).
        harness_enabled=options.harness_enabled,
        last_context_tokens=rebuilt.context_tokens,
        messages_at_last_request=len(rebuilt.messages),
        turns=rebuilt.turns,
    )
    return _Opened(
        writer.session_id,
        writer,
        state,
        provider,
        model,
        history=events,
        next_seq=rebuilt.last_seq + 1,
        open_turn=rebuilt.open_turn,
        forked_from=forked_from,
        harness_was_on=bool(rebuilt.harness_enabled),
        reasoning_effort=rebuilt.reasoning_effort,
    )


_OPENS_LOG = (TurnStarted, MessageAppended)
"""The records that make a new session worth a log: a task or a message."""


class _LogSink:
    """The bus sink that appends records to the session log; its writer can be swapped.

    A new session's log is created lazily, by ``create``, on its first ``TurnStarted`` or
    ``MessageAppended``; the records before it (a model or mode change) are held and written
    first. A front-end opened and closed without a prompt so leaves no empty session behind for
    ``--continue`` to pick (see ARCHITECTURE.md, "Session logs are created on the first turn").

    After a top-level ``TurnFinished`` (the log is fsynced at it) ``on_saved`` gets the log's path.
    """

    def __init__(
        self,
        writer: SessionWriter | None,
        *,
        create: Callable[[Sequence[Event]], SessionWriter] | None = None,
        on_saved: Callable[[str], None] | None = None,
    ) -> None:
        self.writer = writer
        self.on_saved = on_saved
        self._create = create
        self._held: list[Event] = []

    def __call__(self, event: Event) -> None:
        msg = event.msg
        # The log keeps records; display deltas are rebuilt from them and not worth the disk,
        # and a SessionSaved only reports on the log itself.
        if not is_logged(msg):
            return
        writer = self.writer
        if writer is None:
            if self._create is None:
                return
            if not isinstance(msg, _OPENS_LOG):
                self._hold(event)
                return
            # The held records and this one go out with the header, under one fsync.
            held, self._held = self._held, []
            writer = self._create([*held, event])
            self.writer, self._create = writer, None
        else:
            writer.append(event)  # fsyncs at turn boundaries (SYNC_EVENTS)
        if isinstance(msg, TurnFinished) and event.parent_call_id is None and self.on_saved:
            self.on_saved(str(writer.path))

    def _hold(self, event: Event) -> None:
        """Keep a record for the log to come; of a sensor's readings only the latest.

        Live checks read the project for as long as a front-end sits open without a prompt;
        their readings are state, and holding every one would grow without bound.
        """
        msg = event.msg
        if isinstance(msg, SensorReading):
            self._held = [
                held
                for held in self._held
                if not (isinstance(held.msg, SensorReading) and held.msg.sensor == msg.sensor)
            ]
        self._held.append(event)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _bus(opened: _Opened, sink: _LogSink) -> EventBus:
    bus = EventBus(opened.session_id, next_seq=opened.next_seq, history=opened.history)
    bus.add_sink(sink)
    if opened.open_turn is not None:
        bus.publish(WarningEvent(message=f"task {opened.open_turn} was cut off by a crash or kill"))
        bus.publish(TurnFinished(turn_id=opened.open_turn, stop_reason="interrupted"))
    opened.state.messages = _repair_loaded(opened.state.messages, bus)
    if opened.harness_was_on and not opened.state.harness_enabled:
        bus.publish(HarnessToggled(enabled=False))
    return bus


def _parts(
    options: CoreOptions,
    opened: _Opened,
    workspace: Path,
    asker: ApprovalAsker,
    publish: Callable[[EventMsg, str | None], Event],
    harness: Harness | None = None,
) -> AgentParts:
    from arcan_core.store import ProjectPaths  # noqa: PLC0415

    skills = discover_skills(workspace, options.home)
    tools, sub_agents = _tools(options, workspace, opened.state.mode, skills, harness)
    checkpoints = None
    if options.checkpoints and options.persist:
        store = ProjectPaths(workspace).checkpoints_dir
        checkpoints = Checkpoints(workspace, store, opened.session_id)
    config = options.config
    parts = AgentParts(
        session_id=opened.session_id,
        workspace=workspace,
        provider=opened.provider,
        model=_model_info(options, opened.provider, opened.model),
        tools=tools,
        system_prompt=build_system_prompt(
            Environment.detect(workspace), skills=skills, extra=options.extra_system
        ),
        ask=asker,
        limits=_limits(options),
        settings=RequestSettings(
            max_output_tokens=config.max_output_tokens,
            thinking_budget=config.thinking_budget,
            reasoning_effort=opened.reasoning_effort or config.reasoning_effort,
        ),
        supervisor=options.supervisor if options.supervisor is not None else harness,
        checkpoints=checkpoints,
    )
    if sub_agents is not None:
        sub_agents.bind(parts, opened.state, publish)
    return parts


async def open_core(options: CoreOptions) -> CoreDaemon:
    """Start a core for ``options`` and return its handle (a ``CoreHandle``).

    Raises:
        SessionNotFoundError: ``resume`` names no session of the project.
        SessionLockedError: another live process writes that session.
        ConfigError: the provider or model cannot be set up.
    """
    workspace = options.project_dir.resolve()
    warnings = _Warnings()
    mcp = await _start_mcp(options, workspace, warnings)
    if mcp is not None:
        try:
            tools = tuple(await mcp.tools())
        except BaseException:
            await mcp.aclose()
            raise
        options = options.replace(extra_tools=(*options.extra_tools, *tools))
    try:
        opened = _open_session(options, workspace)
    except BaseException:
        if mcp is not None:
            await mcp.aclose()
        raise
    live = _LiveHarness.build(options, workspace, opened, warnings)
    harness = live.harness if live is not None else None
    sink = _LogSink(opened.writer, create=opened.create_log)
    try:
        bus = _bus(opened, sink)
        # On the loop's next turn: a front-end subscribes right after open_core returns, and
        # must see why a server is missing.
        asyncio.get_running_loop().call_soon(warnings.attach, bus)
        sink.on_saved = _saved_notifier(bus)
        interactive = InteractiveAsker(bus.publish) if options.interactive else None
        asker: ApprovalAsker = interactive if interactive is not None else HeadlessAsker()
        parts = _parts(
            options,
            opened,
            workspace,
            asker,
            lambda msg, parent: bus.publish(msg, parent_call_id=parent),
            harness,
        )
        agent = AgentBuilder(parts, opened.state, bus.publish).build()
        if opened.forked_from is not None and parts.checkpoints is not None:
            turns = [e.msg.turn_id for e in opened.history if isinstance(e.msg, TurnStarted)]
            await parts.checkpoints.adopt(opened.forked_from, turns)
    except BaseException:
        sink.close()
        if mcp is not None:
            await mcp.aclose()
        raise
    if live is not None:
        live.attach(bus)
    provider = opened.provider

    def switch(provider_name: str | None, model: str) -> tuple[Provider, ModelInfo]:
        if provider_name in (None, provider.name):
            return provider, _model_info(options.replace(model_info=None), provider, model)
        chosen, chosen_model = _provider(options.replace(provider=None), provider_name, model)
        return chosen, _model_info(options.replace(model_info=None), chosen, chosen_model)

    rewinder = _Rewinder(workspace, bus, sink, opened.state, parts)
    return CoreDaemon(
        agent,
        bus,
        asker=interactive,
        switch_model=switch,
        rewind_conversation=rewinder,
        on_close=sink.close,
        closers=(mcp.aclose,) if mcp is not None else (),
        services=(live.close,) if live is not None else (),
        limits_for=live.limits_for if live is not None and live.owned else None,
    )


class _LiveHarness:
    """The core's harness: readings live from the start, the supervisor once turned on.

    Either built here (``owned``: the core starts and closes it, and switches the task limits
    when it is turned on or off) or handed in as ``options.supervisor`` by a front-end that
    manages it (``arcan exec --until-green``); either way it publishes on the core's bus and its
    hooks wrap the tools.
    """

    def __init__(self, harness: Harness, options: CoreOptions, *, owned: bool) -> None:
        self.harness = harness
        self.owned = owned
        self._options = options
        self._start: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls, options: CoreOptions, workspace: Path, opened: _Opened, warnings: _Warnings
    ) -> _LiveHarness | None:
        """The harness for ``options``, or ``None`` (no checks or hooks, or turned off)."""
        if options.supervisor is not None:
            from arcan_core.harness.loop import Harness  # noqa: PLC0415

            if isinstance(options.supervisor, Harness):
                return cls(options.supervisor, options, owned=False)
            return None
        if not options.live_checks and not options.config.harness.hooks:
            return None
        from arcan_core.errors import ConfigError  # noqa: PLC0415
        from arcan_core.harness.loop import Harness  # noqa: PLC0415
        from arcan_core.harness.setpoints import effective_setpoints  # noqa: PLC0415

        try:
            setpoints = effective_setpoints(options.config.harness, workspace)
            if not setpoints.harness.checks and not setpoints.harness.hooks:
                return None
            # A resumed harness knows the last readings from the log, with its loop off.
            harness = (
                Harness.resumed(setpoints, workspace, opened.history)
                if opened.history
                else Harness(setpoints, workspace)
            )
        except ConfigError as error:
            # A bad check table must not keep the session from opening; it is reported.
            warnings(f"live checks are off: {error.message}")
            return None
        return cls(harness, options, owned=True)

    def attach(self, bus: EventBus) -> None:
        """Publish on ``bus``; an owned harness starts reading its checks.

        It starts on the loop's next turn, so a front-end that subscribes right after
        ``open_core`` sees the first readings.
        """
        self.harness.attach(bus.background_publisher())
        if self.owned and self._options.live_checks:
            self._start = asyncio.get_running_loop().create_task(self.harness.start())

    def limits_for(self, enabled: bool) -> TurnLimits:
        """The limits of the next task: the harness's (see ``harnessed``) while it is on."""
        if not enabled:
            return _limits(self._options)
        from arcan_core.harness.loop import STEPS_PER_TURN  # noqa: PLC0415

        config = self._options.config.harness
        return TurnLimits(
            max_steps=config.max_turns * STEPS_PER_TURN,
            max_cost_usd=config.max_cost_usd,
            max_tokens=config.max_tokens,
        )

    async def close(self) -> None:
        """Stop the watcher and the checks of an owned harness (the front-end closes its own)."""
        if not self.owned:
            return
        if self._start is not None and not self._start.done():
            self._start.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._start
        await self.harness.close()


MCP_JSON_NAME = ".mcp.json"
"""The project's shared MCP file (``arcan_core.mcp.MCP_JSON``), named here so that a project
without MCP servers never imports the MCP package."""


def has_mcp_servers(workspace: Path, config: ArcanConfig) -> bool:
    """Return whether the project configures any MCP server (a cheap check: no parsing)."""
    return bool(config.mcp_servers) or (workspace / MCP_JSON_NAME).is_file()


async def _start_mcp(
    options: CoreOptions, workspace: Path, warnings: _Warnings
) -> McpManager | None:
    """Build the manager of the project's MCP servers, or ``None`` when there are none.

    Raises:
        ConfigError: ``.mcp.json`` is malformed.
    """
    if not options.mcp or options.tools is not None:
        return None
    if not has_mcp_servers(workspace, options.config):
        return None
    from arcan_core.mcp import McpManager  # noqa: PLC0415 - only for projects with servers

    return McpManager.from_config(workspace, options.config, notify=warnings)


class _Warnings:
    """Turns MCP notices into ``Warning`` events: held until attached, dropped once closed."""

    def __init__(self) -> None:
        self._held: list[str] = []
        self._bus: EventBus | None = None

    def __call__(self, line: str) -> None:
        if self._bus is None:
            self._held.append(line)
        elif not self._bus.closed:
            self._bus.publish(WarningEvent(message=line))

    def attach(self, bus: EventBus) -> None:
        """Publish the held notices on ``bus`` and the later ones as they come."""
        self._bus = bus
        held, self._held = self._held, []
        for line in held:
            self(line)


def _saved_notifier(bus: EventBus) -> Callable[[str], None]:
    """Return the ``on_saved`` hook that publishes ``SessionSaved`` once the current event is out.

    The sink runs inside ``publish``; publishing from there would reach subscribers before the
    ``TurnFinished`` being written, so the notice is published on the loop's next turn.
    """
    loop = asyncio.get_running_loop()

    def publish(path: str) -> None:
        if not bus.closed:
            bus.publish(SessionSaved(path=path))

    def schedule(path: str) -> None:
        loop.call_soon(publish, path)

    return schedule


class _Rewinder:
    """Rewinds the conversation by forking the session before a turn and going on in the fork.

    The log is append-only, so the old session is kept as it was; the core swaps its writer,
    its bus's session id and its state over to the fork.
    """

    def __init__(
        self,
        workspace: Path,
        bus: EventBus,
        sink: _LogSink,
        state: AgentState,
        parts: AgentParts,
    ) -> None:
        self._workspace = workspace
        self._bus = bus
        self._sink = sink
        self._state = state
        self._parts = parts

    async def __call__(self, turn_id: str) -> str:
        from arcan_core.store import ProjectPaths, rebuild  # noqa: PLC0415

        if self._sink.writer is None:
            raise StoreError(
                "this session is not saved, so there is no earlier point to go back to"
            )
        old_id = self._bus.session_id
        paths = ProjectPaths(self._workspace)
        writer, copied = fork_session(paths, old_id, before_turn=turn_id)
        rebuilt = rebuild(writer.header, copied)
        self._sink.close()
        self._sink.writer = writer
        self._bus.rebind(writer.session_id, next_seq=rebuilt.last_seq + 1, history=copied)
        state = self._state
        state.messages[:] = rebuilt.messages
        state.session_usage = rebuilt.usage
        state.session_cost_usd = rebuilt.cost_usd
        state.turns = rebuilt.turns
        state.last_context_tokens = rebuilt.context_tokens
        state.messages_at_last_request = len(state.messages)
        state.repairer = IncrementalRepair(view_message)
        self._parts.session_id = writer.session_id
        if self._parts.checkpoints is not None:
            checkpoints = Checkpoints(self._workspace, paths.checkpoints_dir, writer.session_id)
            kept = [e.msg.turn_id for e in copied if isinstance(e.msg, TurnStarted)]
            await checkpoints.adopt(old_id, kept)
            self._parts.checkpoints = checkpoints
        return writer.session_id
