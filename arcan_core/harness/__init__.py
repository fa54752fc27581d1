"""The harness control loop: setpoints, sensors, a pure controller and actuators.

The agent is the plant; the harness reads sensors (checks, the file watcher, meters, hooks), folds
every event into the controller's state, lets its rules decide (the most restrictive decision
wins), and acts through the agent core's supervisor seam until the setpoints are met or a stop
reason holds. Start from ``Harness`` (``loop``) and ``effective_setpoints`` (``setpoints``).
"""

from arcan_core.harness.controller import ControllerState, Decision, decide, fold, replay
from arcan_core.harness.loop import Harness, harnessed
from arcan_core.harness.setpoints import Setpoints, effective_setpoints

__all__ = [
    "ControllerState",
    "Decision",
    "Harness",
    "Setpoints",
    "decide",
    "effective_setpoints",
    "fold",
    "harnessed",
    "replay",
]
