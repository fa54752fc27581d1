"""Plain ``arcan``: the Textual TUI in the project (``--continue``, ``--resume ID``).

Only the configuration is resolved before the app starts (fast: a few small TOML files). The core
itself is imported and opened inside the running app, after the first paint, so the prompt is on
screen quickly; Textual is imported only in ``run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from arcan_core.agent.api import CoreHandle
    from arcan_core.config.model import ArcanConfig
    from arcan_tui.app import ConnectRequest

HELP = "open the interactive TUI"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Plain ``arcan`` takes only the global flags (``--continue`` and ``--resume`` among them)."""
    del parser


def _resume_target(args: argparse.Namespace, project: Path) -> str | None:
    from arcan_core.errors import SessionNotFoundError  # noqa: PLC0415
    from arcan_core.store.index import latest_session, resolve_session_id  # noqa: PLC0415

    if getattr(args, "continue_", False):
        latest = latest_session(project)
        if latest is None:
            raise SessionNotFoundError(
                "there is no session to continue in this project", hint="run arcan to start one"
            )
        return latest
    resume: str | None = getattr(args, "resume", None)
    return resolve_session_id(project, resume) if resume else None


async def open_core_for(config: ArcanConfig, project: Path, request: ConnectRequest) -> CoreHandle:
    """Open the real core for the TUI: interactive approvals, the session ``request`` names."""
    from arcan_core.agent.session import CoreOptions, open_core  # noqa: PLC0415

    if request.provider is not None:
        config = config.model_copy(update={"provider": request.provider})
    options = CoreOptions(
        project_dir=project,
        config=config,
        resume=request.resume or "new",
        fork=request.fork,
        interactive=True,
    )
    return await open_core(options)


def run(args: argparse.Namespace) -> int:
    """Resolve the configuration, then run the TUI until the user quits."""
    from arcan_core.config import load_config  # noqa: PLC0415
    from arcan_core.providers.registry import detect_provider  # noqa: PLC0415
    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415 - the cli imports us

    project = project_dir(args)
    config = load_config(project, flags=config_flags(args)).config
    resume = _resume_target(args, project)
    provider = config.provider or detect_provider()

    from arcan_tui.app import AppOptions, ArcanApp  # noqa: PLC0415

    async def connect(request: ConnectRequest) -> CoreHandle:
        return await open_core_for(config, project, request)

    options = AppOptions(
        project_dir=project,
        theme=config.ui.theme,
        show_thinking=config.ui.show_thinking,
        sensor_panel=config.ui.sensor_panel,
        provider=provider or "",
        model=config.model or "",
        mode=config.mode,
        resume=resume,
        needs_setup=provider is None,
    )
    ArcanApp(connect, options).run()
    return 0
