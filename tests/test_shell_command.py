"""``arcan shell`` on the command line: flags, routing, and a light start-up path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from prompt_toolkit import PromptSession
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from arcan_core.errors import UsageError
from arcan_tui.cli import COMMANDS, build_parser
from arcan_tui.shell.prompt import build_key_bindings

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


@pytest.mark.parametrize(
    ("argv", "continue_", "resume"),
    [
        (["shell"], False, None),
        (["shell", "--continue"], True, None),
        (["--continue", "shell"], True, None),
        (["shell", "-r", "abc123"], False, "abc123"),
        (["-r", "abc123", "shell"], False, "abc123"),
        (["--plain", "-c"], True, None),
    ],
)
def test_continue_and_resume_reach_the_shell(
    argv: list[str], continue_: bool, resume: str | None
) -> None:
    args = build_parser().parse_args(argv)
    assert bool(args.continue_) is continue_
    assert args.resume == resume
    module = getattr(args, "_module", None) or (COMMANDS["shell"] if args.plain else None)
    assert module == "arcan_tui.commands.shell_cmd"


def test_continue_and_resume_exclude_each_other() -> None:
    with pytest.raises(UsageError, match="not allowed"):
        build_parser().parse_args(["shell", "-c", "-r", "abc"])


async def test_piped_input_sends_each_line(pipe: PipeInput) -> None:
    session: PromptSession[str] = PromptSession(
        multiline=True,
        key_bindings=build_key_bindings(terminal=False),
        input=pipe,
        output=DummyOutput(),
    )
    pipe.send_text("first line\n")
    assert await session.prompt_async() == "first line"


def test_the_prompt_path_loads_neither_textual_nor_the_core() -> None:
    probe = (
        "import sys\n"
        "from arcan_tui.cli import build_parser\n"
        "build_parser()\n"
        "import arcan_tui.commands.shell_cmd, arcan_tui.shell.session, arcan_tui.shell.host\n"
        "heavy = ('textual', 'rich', 'pydantic', 'httpx', 'arcan_core.protocol',"
        " 'arcan_core.agent')\n"
        "print(','.join(name for name in heavy if name in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_prompts_piped_into_arcan_shell_run_without_a_terminal_warning(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCAN_")}
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name)
    env["NO_COLOR"] = "1"
    arcan = Path(sys.executable).with_name("arcan")
    done = subprocess.run(
        [str(arcan), "-C", str(tmp_path), "shell", "--provider", "scripted", "--mode", "plan"],
        input="/cost\n/quit\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "output tokens" in done.stdout  # /cost answered: the piped lines were read
    assert "not a terminal" not in done.stderr
