"""arcan as an Agent Client Protocol agent (``arcan acp``), for editors such as Zed and Toad.

Importing this package imports the ``acp`` library (the ``acp`` optional dependency); only the
``arcan acp`` command does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.acp.agent import AcpSession, ArcanAgent
from arcan_core.acp.translate import EventTranslator, permission_options, prompt_to_arcan

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "AcpSession",
    "ArcanAgent",
    "EventTranslator",
    "permission_options",
    "prompt_to_arcan",
    "serve",
]


async def serve(*, flags: Mapping[str, object] | None = None) -> None:
    """Serve one editor connection on stdin/stdout until it closes, then close every session.

    Args:
        flags: command-line config values (provider, model, mode…) for every session.
    """
    from acp.core import run_agent  # noqa: PLC0415

    agent = ArcanAgent(flags=flags)
    try:
        # The "unstable" routes carry session/resume and session/close, which arcan implements
        # (and advertises); session/fork answers an error either way.
        await run_agent(agent, use_unstable_protocol=True)
    finally:
        await agent.aclose()
