"""The prompt's keys, completion and history, through prompt-toolkit's pipe input."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from arcan_tui.history import PromptHistory
from arcan_tui.shell.commands import default_registry
from arcan_tui.shell.prompt import SharedHistory, ShellCompleter, build_prompt_session

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prompt_toolkit.buffer import Buffer


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


async def ask(
    pipe: PipeInput, keys: str, *, history: History | None = None, root: Path = Path()
) -> str:
    session = build_prompt_session(
        pt_input=pipe,
        pt_output=DummyOutput(),
        history=history or InMemoryHistory(),
        completer=ShellCompleter(default_registry(), root),
        toolbar=lambda: " toolbar ",
    )
    pipe.send_text(keys)
    return await session.prompt_async()


async def test_enter_sends(pipe: PipeInput) -> None:
    assert await ask(pipe, "hello\r") == "hello"


async def test_alt_enter_and_ctrl_j_insert_newlines(pipe: PipeInput) -> None:
    assert await ask(pipe, "one\x1b\rtwo\nthree\r") == "one\ntwo\nthree"


async def test_a_trailing_backslash_continues_on_a_new_line(pipe: PipeInput) -> None:
    assert await ask(pipe, "first \\\rsecond\r") == "first \nsecond"


async def test_a_backslash_inside_the_line_is_kept(pipe: PipeInput) -> None:
    assert await ask(pipe, "a\\b\r") == "a\\b"


async def test_ctrl_c_clears_a_typed_line_and_interrupts_an_empty_one(pipe: PipeInput) -> None:
    assert await ask(pipe, "draft\x03kept\r") == "kept"
    with pytest.raises(KeyboardInterrupt):
        await ask(pipe, "\x03")


async def test_history_is_shared_through_the_project_file(pipe: PipeInput, tmp_path: Path) -> None:
    stored = PromptHistory.for_project(tmp_path, root=tmp_path / "state")
    stored.append("older prompt")
    stored.append("newest prompt")
    shared = SharedHistory(stored)
    # Up twice reaches the older prompt.
    assert await ask(pipe, "\x1b[A\x1b[A\r", history=shared) == "older prompt"
    again = PromptHistory.for_project(tmp_path, root=tmp_path / "state")
    lines = again.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ["older prompt", "newest prompt", "older prompt"]


async def test_ctrl_r_searches_history(pipe: PipeInput) -> None:
    history = InMemoryHistory()
    for text in ("deploy the app", "run the tests", "fix the lint"):
        history.append_string(text)
    # Ctrl+R, type a query, Enter to take the match, Enter to send it.
    assert await ask(pipe, "\x12depl\r\r", history=history) == "deploy the app"


async def test_ctrl_g_edits_the_prompt_in_the_editor(
    pipe: PipeInput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "path = Path(sys.argv[1])\n"
        "path.write_text(path.read_text().strip() + ' (edited)')\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    session = build_prompt_session(
        pt_input=pipe,
        pt_output=DummyOutput(),
        history=InMemoryHistory(),
        completer=ShellCompleter(default_registry(), tmp_path),
        toolbar=lambda: "",
    )
    edited = asyncio.Event()

    def changed(buffer: Buffer) -> None:
        if buffer.text.endswith("(edited)"):
            edited.set()

    session.default_buffer.on_text_changed += changed
    answer = asyncio.create_task(session.prompt_async())
    pipe.send_text("draft\x07")
    await asyncio.wait_for(edited.wait(), 10)
    pipe.send_text("\r")
    assert await asyncio.wait_for(answer, 10) == "draft (edited)"


def completions(text: str, root: Path = Path()) -> list[str]:
    completer = ShellCompleter(default_registry(), root)
    found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [completion.text for completion in found]


def test_slash_commands_complete_by_prefix() -> None:
    assert completions("/m") == ["/model", "/mode"]
    assert completions("/qu") == ["/quit"]
    assert "/help" in completions("/")


def test_command_arguments_complete_from_their_choices() -> None:
    assert completions("/mode a") == ["ask", "auto-edit"]
    assert completions("/harness o") == ["on", "off"]
    assert completions("/cost x") == []


def test_mentions_complete_project_files_but_not_ignored_ones(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("build/\n*.log\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "parser.py").write_text("", encoding="utf-8")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "parser.py").write_text("", encoding="utf-8")
    (tmp_path / "parser.log").write_text("", encoding="utf-8")
    assert completions("look at @pars", tmp_path) == ["@src/parser.py"]
    assert completions("no mention here", tmp_path) == []
