"""``arcan harness [init]``: show the effective setpoints, or write them to the project config.

``arcan harness`` prints the budgets and checks in force for this project and says whether the
checks were configured in ``[harness]`` or detected from the files present and the tools installed.
``arcan harness init`` writes them to ``.arcan/config.toml`` (appended: every other table and
comment stays), so the user can review and edit them before the first harnessed task.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

HELP = "show the harness setpoints (budgets and checks), or write them with 'init'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the action and its options."""
    parser.add_argument(
        "action",
        nargs="?",
        choices=("show", "init"),
        default="show",
        help="show (default) or init: write the setpoints to .arcan/config.toml",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with init: replace an existing [harness] table (comments in the file are lost)",
    )


def run(args: argparse.Namespace) -> int:
    """Print or write the effective setpoints; return the exit code."""
    from arcan_core.config.builder import CONFIG_FILE_NAME, load_config  # noqa: PLC0415
    from arcan_core.harness.setpoints import (  # noqa: PLC0415
        effective_setpoints,
        write_harness_table,
    )
    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415

    project = project_dir(args)
    config = load_config(project, flags=config_flags(args)).config
    setpoints = effective_setpoints(config.harness, project)
    setpoints.specs()  # a malformed command or target is a ConfigError now, not mid-task
    if args.action == "show":
        sys.stdout.write(setpoints.describe() + "\n")
        return 0
    if setpoints.source == "none":
        sys.stderr.write(
            "arcan: no checks configured and none detected; nothing written\n"
            "hint: add a [harness.checks.NAME] table with a command to .arcan/config.toml\n"
        )
        return 1
    path = project / ".arcan" / CONFIG_FILE_NAME
    message = write_harness_table(path, setpoints.harness, force=args.force)
    sys.stdout.write(setpoints.describe() + f"\n\n{message}\n")
    return 0
