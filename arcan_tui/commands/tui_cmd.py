"""Plain ``arcan``: the Textual TUI in the project (``--continue``, ``--resume ID``).

Before the first paint only the ``[ui]`` preferences are read (plain TOML). Everything heavier (the
validated configuration, the protocol models, provider detection, the store and the core) loads in
``connect``, which the app calls once the prompt is on screen; a configuration error then ends the
app with the usual one-line message and exit code 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from arcan_tui.app import Connection, ConnectRequest

HELP = "open the interactive TUI"
STREAM_READ_BATCH_S = 0.025
"""How often the TUI reads a long reply's socket (``ProviderSettings.read_batch_s``): the
transcript draws every 100 ms at most, and the fragments read together go on as one event
through the core and the router; the end of a reply waits 25 ms at most for it."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Plain ``arcan`` takes only the global flags (``--continue`` and ``--resume`` among them)."""
    del parser


async def connect_core(
    args: argparse.Namespace, project: Path, request: ConnectRequest
) -> Connection:
    """Load the configuration and open the real core for ``request`` (after the first paint)."""
    from arcan_core.agent.session import CoreOptions, open_core  # noqa: PLC0415
    from arcan_core.config import load_config  # noqa: PLC0415
    from arcan_core.providers.registry import detect_provider  # noqa: PLC0415
    from arcan_tui.app import Connection  # noqa: PLC0415
    from arcan_tui.cli import config_flags  # noqa: PLC0415 - the cli imports us

    config = load_config(project, flags=config_flags(args)).config
    provider = request.provider or config.provider or detect_provider()
    if provider is None:
        return Connection(None, needs_setup=True)
    carried = {"model": request.model, "mode": request.mode, "reasoning_effort": request.effort}
    updates = {"provider": provider, **{k: v for k, v in carried.items() if v is not None}}
    config = config.model_copy(update=updates)
    resume = request.resume or ("continue" if getattr(args, "continue_", False) else None)
    resume = resume or getattr(args, "resume", None)
    if request.fresh:
        # /clear: --continue and --resume named the first conversation, not this one.
        resume = None
    options = CoreOptions(
        project_dir=project,
        config=config,
        resume=resume or "new",
        fork=request.fork,
        interactive=True,
        harness_enabled=bool(request.harness),
        read_batch_s=STREAM_READ_BATCH_S,
    )
    core = await open_core(options)
    if request.fresh and request.effort is not None:
        # The new session starts at the carried effort (through the config above), but only a
        # record makes a later resume of it keep that effort rather than the configured one.
        from arcan_core.protocol.operations import SetReasoning  # noqa: PLC0415

        core.submit(SetReasoning(effort=request.effort, reason="carried over by /clear"))
    # The core resolved the model (a provider's default when none is configured, or the one a
    # resumed session used): label the status bar with that, not with the unresolved config.
    model = core.model
    return Connection(core, provider=model.provider, model=model.id, mode=config.mode)


def session_to_open(args: argparse.Namespace, project: Path) -> str | None:
    """Return the session ``--resume ID`` or ``--continue`` names, or ``None`` for a new one.

    Checked before the TUI starts, as ``arcan exec --continue`` does: a missing session is a usage
    error to report on its own, not something to find after the setup screen has been shown.

    Raises:
        SessionNotFoundError: no session matches ``--resume``, or none exists to ``--continue``.
    """
    given: str | None = getattr(args, "resume", None)
    if not given and not getattr(args, "continue_", False):
        return None
    from arcan_core.errors import SessionNotFoundError  # noqa: PLC0415 - only when resuming
    from arcan_core.store import latest_session, resolve_session_id  # noqa: PLC0415

    if given:
        return resolve_session_id(project, given)
    latest = latest_session(project)
    if latest is None:
        raise SessionNotFoundError(
            f"no session to continue in {project}",
            hint="start one with `arcan` (without --continue) or `arcan exec PROMPT`",
        )
    return latest


def run(args: argparse.Namespace) -> int:
    """Run the TUI until the user quits; return its exit code.

    Raises:
        SessionNotFoundError: ``--continue`` or ``--resume`` names no session (exit code 2).
    """
    import gc  # noqa: PLC0415 - the cli imports us; keep its import lean

    from arcan_tui.cli import project_dir  # noqa: PLC0415 - the cli imports us

    project = project_dir(args)
    resume = session_to_open(args, project)
    # Textual and the chat screen leave some 75k objects on the way to the first frame, nearly
    # all kept for the life of the app, so the cyclic collector's passes over them (15-20 ms in
    # all) find almost nothing to free. It is off until that frame, when the app freezes them
    # and turns it back on (or here, if the app ends before painting).
    gc.disable()
    try:
        return _run_app(args, project, resume)
    finally:
        gc.enable()


def _run_app(args: argparse.Namespace, project: Path, resume: str | None) -> int:
    from arcan_tui.app import AppOptions, ArcanApp  # noqa: PLC0415 - Textual loads only here
    from arcan_tui.user_config import read_ui_preferences  # noqa: PLC0415

    ui = read_ui_preferences(project)

    async def connect(request: ConnectRequest) -> Connection:
        return await connect_core(args, project, request)

    options = AppOptions(
        project_dir=project,
        theme=str(ui.get("theme", "arcan-dark")),
        show_thinking=bool(ui.get("show_thinking", True)),
        sensor_panel=bool(ui.get("sensor_panel", True)),
        provider=getattr(args, "provider", None) or "",
        model=getattr(args, "model", None) or "",
        resume=resume,
    )
    app = ArcanApp(connect, options)
    app.run()
    return app.return_code or 0
