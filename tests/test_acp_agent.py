"""``arcan acp`` in a subprocess, driven by the ACP library's own client side.

The model is the scripted provider (no network). One process runs a whole turn that asks for
permission, edits a file and calls a tool of an MCP server the editor passed; a second process
loads that session from ``.arcan/``, replays it, and runs another turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("acp")
pytest.importorskip("mcp")

from acp.exceptions import RequestError
from acp.interfaces import Agent, Client
from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    AllowedOutcome,
    CreateElicitationResponse,
    CreateTerminalResponse,
    CurrentModeUpdate,
    EnvVariable,
    FileEditToolCallContent,
    KillTerminalResponse,
    McpServerStdio,
    PermissionOption,
    ReadTextFileResponse,
    ReleaseTerminalResponse,
    RequestPermissionResponse,
    SessionInfoUpdate,
    TerminalOutputResponse,
    TextContentBlock,
    ToolCallProgress,
    ToolCallStart,
    ToolCallUpdate,
    UserMessageChunk,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)
from acp.stdio import spawn_agent_process

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from acp.client.connection import ClientSideConnection
    from acp.schema import ElicitationMode

ECHO = Path(__file__).parent / "fixtures" / "mcp_echo_server.py"
ARCAN = Path(sys.executable).with_name("arcan")


class RecordingClient(Client):
    """An editor that records updates and answers permission requests with a fixed option."""

    def __init__(self, choose: str = "allow_once") -> None:
        self.choose = choose
        self.updates: list[Any] = []
        self.permissions: list[tuple[ToolCallUpdate, list[PermissionOption]]] = []
        self.first_text = asyncio.Event()

    async def request_permission(
        self,
        session_id: str,
        tool_call: ToolCallUpdate,
        options: list[PermissionOption],
        **kwargs: Any,
    ) -> RequestPermissionResponse:
        self.permissions.append((tool_call, options))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=self.choose)
        )

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)
        if isinstance(update, AgentMessageChunk):
            self.first_text.set()

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse | None:
        raise RequestError.method_not_found("fs/write_text_file")

    async def read_text_file(
        self,
        session_id: str,
        path: str,
        line: int | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> ReadTextFileResponse:
        raise RequestError.method_not_found("fs/read_text_file")

    async def create_terminal(
        self,
        session_id: str,
        command: str,
        args: list[str] | None = None,
        env: list[EnvVariable] | None = None,
        cwd: str | None = None,
        output_byte_limit: int | None = None,
        **kwargs: Any,
    ) -> CreateTerminalResponse:
        raise RequestError.method_not_found("terminal/create")

    async def terminal_output(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> TerminalOutputResponse:
        raise RequestError.method_not_found("terminal/output")

    async def release_terminal(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> ReleaseTerminalResponse | None:
        raise RequestError.method_not_found("terminal/release")

    async def wait_for_terminal_exit(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> WaitForTerminalExitResponse:
        raise RequestError.method_not_found("terminal/wait_for_exit")

    async def kill_terminal(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> KillTerminalResponse | None:
        raise RequestError.method_not_found("terminal/kill")

    async def create_elicitation(
        self, message: str, mode: ElicitationMode, **kwargs: Any
    ) -> CreateElicitationResponse:
        raise RequestError.method_not_found("elicitation/create")

    async def complete_elicitation(self, elicitation_id: str, **kwargs: Any) -> None:
        return None

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        return None

    def on_connect(self, conn: Agent) -> None:
        return None

    def texts(self, kind: type[Any]) -> str:
        return "".join(
            update.content.text
            for update in self.updates
            if isinstance(update, kind) and isinstance(update.content, TextContentBlock)
        )


def _project(tmp_path: Path, steps: list[dict[str, Any]], name: str) -> Path:
    project = tmp_path / "project"
    (project / ".arcan").mkdir(parents=True, exist_ok=True)
    script = tmp_path / f"{name}.json"
    script.write_text(json.dumps({"steps": steps}), encoding="utf-8")
    (project / ".arcan" / "config.toml").write_text(
        f'provider = "scripted"\nmode = "ask"\nscript = "{script}"\n', encoding="utf-8"
    )
    return project


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "HOME": str(tmp_path / "home"),
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    return tmp_path / "acp.log"


def _exit_code(process: asyncio.subprocess.Process) -> int | None:
    # A call, so mypy does not narrow the attribute across the awaits that change it.
    return process.returncode


@contextlib.asynccontextmanager
async def _spawn(
    client: RecordingClient, project: Path, tmp_path: Path, log: Path
) -> AsyncIterator[ClientSideConnection]:
    async with spawn_agent_process(
        client,
        str(ARCAN),
        "acp",
        "--log",
        str(log),
        env=_env(tmp_path),
        cwd=project,
        use_unstable_protocol=True,
    ) as (conn, process):
        yield conn
        assert _exit_code(process) is None  # still serving until we close
    assert _exit_code(process) == 0  # the end of stdin is a clean exit
    assert process.stderr is not None
    # The library's spawner pipes stderr and never reads it: arcan must not write there.
    assert await process.stderr.read() == b""


FIRST_TURN: list[dict[str, Any]] = [
    {
        "thinking": "The greeting is in hello.py.",
        "text": "I'll change the greeting.",
        "tool_calls": [
            {
                "id": "call_edit",
                "name": "edit",
                "args": {"path": "hello.py", "old": "Hello", "new": "Goodbye"},
            }
        ],
    },
    {"tool_calls": [{"id": "call_echo", "name": "mcp__echo__echo", "args": {"text": "ping"}}]},
    {"text": "Done: hello.py says Goodbye."},
]


def _check_first_turn(client: RecordingClient, project: Path) -> None:
    assert (project / "hello.py").read_text(encoding="utf-8") == 'print("Goodbye")\n'
    # The edit asked first, showing the change as a whole-file diff.
    edit_call, options = client.permissions[0]
    assert (edit_call.tool_call_id, edit_call.kind) == ("call_edit", "edit")
    option_ids = [option.option_id for option in options]
    assert option_ids[0] == "allow_once"
    assert option_ids[-1] == "reject"
    (preview,) = edit_call.content or []
    assert isinstance(preview, FileEditToolCallContent)
    assert (preview.old_text, preview.new_text) == ('print("Hello")\n', 'print("Goodbye")\n')

    titles = [u.title for u in client.updates if isinstance(u, SessionInfoUpdate)]
    assert titles == ["say goodbye instead"]
    assert "The greeting is in hello.py." in client.texts(AgentThoughtChunk)
    assert "I'll change the greeting." in client.texts(AgentMessageChunk)
    assert "Done: hello.py says Goodbye." in client.texts(AgentMessageChunk)
    started = [u.tool_call_id for u in client.updates if isinstance(u, ToolCallStart)]
    assert started == ["call_edit", "call_echo"]
    finished = {
        u.tool_call_id: u
        for u in client.updates
        if isinstance(u, ToolCallProgress) and u.status in ("completed", "failed")
    }
    assert finished["call_edit"].status == "completed"
    (diff,) = finished["call_edit"].content or []
    assert isinstance(diff, FileEditToolCallContent)
    assert diff.path == str(project / "hello.py")
    assert diff.new_text == 'print("Goodbye")\n'
    # The MCP server the editor passed was started and its tool ran.
    assert finished["call_echo"].status == "completed"
    assert finished["call_echo"].raw_output == {"result": "ping", "is_error": False}


def _check_replay(client: RecordingClient) -> None:
    assert "say goodbye instead" in client.texts(UserMessageChunk)
    assert "Done: hello.py says Goodbye." in client.texts(AgentMessageChunk)
    replayed = [u.tool_call_id for u in client.updates if isinstance(u, ToolCallStart)]
    assert replayed == ["call_edit", "call_echo"]


def _log_text(log: Path) -> str:
    return log.read_text(encoding="utf-8") if log.exists() else ""


async def test_a_whole_turn_then_a_resume(tmp_path: Path, log_file: Path) -> None:
    project = _project(tmp_path, FIRST_TURN, "first")
    (project / "hello.py").write_text('print("Hello")\n', encoding="utf-8")
    client = RecordingClient()
    async with _spawn(client, project, tmp_path, log_file) as conn:
        init = await conn.initialize(protocol_version=1)
        assert init.protocol_version == 1
        assert init.agent_capabilities is not None
        assert init.agent_capabilities.load_session is True
        echo = McpServerStdio(
            name="echo",
            command=sys.executable,
            args=[str(ECHO)],
            env=[EnvVariable(name="ARCAN_FROM_EDITOR", value="1")],
        )
        session = await conn.new_session(cwd=str(project), mcp_servers=[echo])
        assert session.modes is not None
        assert session.modes.current_mode_id == "ask"
        modes = [mode.id for mode in session.modes.available_modes]
        assert modes == ["plan", "ask", "auto-edit", "full-auto"]

        response = await conn.prompt(
            session_id=session.session_id,
            prompt=[TextContentBlock(type="text", text="say goodbye instead")],
        )
        assert response.stop_reason == "end_turn"
        _check_first_turn(client, project)
        await conn.set_session_mode(session_id=session.session_id, mode_id="auto-edit")
        first_session = session.session_id
        await conn.close_session(session_id=first_session)

    _project(tmp_path, [{"text": "Still here, and it still says Goodbye."}], "second")
    client = RecordingClient()
    async with _spawn(client, project, tmp_path, log_file) as conn:
        await conn.initialize(protocol_version=1)
        listed = await conn.list_sessions(cwd=str(project))
        assert first_session in [info.session_id for info in listed.sessions]
        loaded = await conn.load_session(cwd=str(project), session_id=first_session)
        assert loaded is not None
        assert loaded.modes is not None
        assert loaded.modes.current_mode_id == "auto-edit"
        _check_replay(client)

        response = await conn.prompt(
            session_id=first_session,
            prompt=[TextContentBlock(type="text", text="are you there?")],
        )
        assert response.stop_reason == "end_turn"
        assert "Still here, and it still says Goodbye." in client.texts(AgentMessageChunk)
    assert "Traceback" not in _log_text(log_file)


async def test_cancel_and_modes(tmp_path: Path, log_file: Path) -> None:
    # The first chunk streams at once, the rest only after a minute: cancel lands in between.
    slow = {"text": "working slowly", "chunk_chars": 8, "chunk_delay_s": 60}
    project = _project(tmp_path, [slow], "slow")
    client = RecordingClient()
    async with _spawn(client, project, tmp_path, log_file) as conn:
        await conn.initialize(protocol_version=1)
        session = await conn.new_session(cwd=str(project))
        await conn.set_session_mode(session_id=session.session_id, mode_id="plan")
        with pytest.raises(RequestError):
            await conn.set_session_mode(session_id=session.session_id, mode_id="yolo")
        turn = asyncio.create_task(
            conn.prompt(
                session_id=session.session_id,
                prompt=[TextContentBlock(type="text", text="take your time")],
            )
        )
        await client.first_text.wait()
        await conn.cancel(session_id=session.session_id)
        response = await asyncio.wait_for(turn, 30)
        assert response.stop_reason == "cancelled"
        modes = [u.current_mode_id for u in client.updates if isinstance(u, CurrentModeUpdate)]
        assert modes == ["plan"]
        assert client.texts(AgentMessageChunk) == "working "
        with pytest.raises(RequestError):
            await conn.fork_session(session_id=session.session_id, cwd=str(project))
