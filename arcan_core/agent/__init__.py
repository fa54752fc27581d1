"""The agent: type-state lifecycle, the core daemon task, the turn loop, compaction.

Front-ends start a core with ``open_core(CoreOptions(...))`` and talk to it through the returned
``CoreHandle`` (see ``api``). The names are loaded on first use, so importing this package (or
``arcan_core.agent.api``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arcan_core.agent.api import CoreHandle
    from arcan_core.agent.session import CoreOptions, open_core
    from arcan_core.agent.supervisor import Directive, StepReport, TurnSupervisor

__all__ = [
    "CoreHandle",
    "CoreOptions",
    "Directive",
    "StepReport",
    "TurnSupervisor",
    "open_core",
]

_WHERE = {
    "CoreHandle": "arcan_core.agent.api",
    "CoreOptions": "arcan_core.agent.session",
    "open_core": "arcan_core.agent.session",
    "Directive": "arcan_core.agent.supervisor",
    "StepReport": "arcan_core.agent.supervisor",
    "TurnSupervisor": "arcan_core.agent.supervisor",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
