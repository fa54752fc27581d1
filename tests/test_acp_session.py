"""``ArcanAgent`` in-process with a real core: rejections, remembered approvals, errors, closing."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("acp")

from acp.exceptions import RequestError
from acp.schema import (
    AgentMessageChunk,
    AvailableCommandsUpdate,
    McpServerStdio,
    SseMcpServer,
    TextContentBlock,
    ToolCallProgress,
)

from arcan_core.acp import AcpSession, ArcanAgent
from arcan_core.config.model import ArcanConfig
from arcan_core.protocol.events import (
    ApprovalRequest,
    Event,
    TextDelta,
    ToolCallAwaitingApproval,
    TurnFinished,
)
from arcan_core.protocol.operations import AnswerApproval, Shutdown, SubmitPrompt
from tests.test_acp_agent import ECHO, RecordingClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from arcan_core.acp.translate import PromptBlock
    from arcan_core.protocol.events import EventMsg
    from arcan_core.protocol.operations import Operation


@pytest.fixture(autouse=True)
def _private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The core looks in the user's home (skills) and state directories; keep the tests' own.
    for variable in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / "home" / variable.lower()))


def _agent(tmp_path: Path, steps: list[dict[str, Any]], client: RecordingClient) -> ArcanAgent:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": steps}), encoding="utf-8")
    config = ArcanConfig(provider="scripted", script=str(script), mode="ask")
    agent = ArcanAgent(load_config=lambda _project: config)
    agent.on_connect(client)
    return agent


def _edit(call_id: str, old: str, new: str) -> dict[str, Any]:
    args = {"path": "a.txt", "old": old, "new": new}
    return {"tool_calls": [{"id": call_id, "name": "edit", "args": args}]}


def _statuses(client: RecordingClient) -> dict[str, str]:
    return {
        u.tool_call_id: u.status
        for u in client.updates
        if isinstance(u, ToolCallProgress) and u.status in ("completed", "failed")
    }


def _transcript(client: RecordingClient) -> list[Any]:
    """The updates that show the conversation (not the command list an editor is sent)."""
    return [u for u in client.updates if not isinstance(u, AvailableCommandsUpdate)]


def _prompt(text: str) -> list[PromptBlock]:
    return [TextContentBlock(type="text", text=text)]


async def test_reject_then_always_allow_in_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.txt").write_text("one\n", encoding="utf-8")
    steps = [
        _edit("c1", "one", "two"),
        {"text": "Understood, I leave it."},
        _edit("c2", "one", "three"),
        _edit("c3", "three", "four"),
        {"text": "Done."},
    ]
    client = RecordingClient(choose="reject")
    agent = _agent(tmp_path, steps, client)
    try:
        session = await agent.new_session(cwd=str(project))
        response = await agent.prompt(session_id=session.session_id, prompt=_prompt("change it"))
        assert response.stop_reason == "end_turn"
        assert response.usage is not None
        assert response.usage.output_tokens > 0
        assert response.usage.total_tokens > response.usage.output_tokens
        assert (project / "a.txt").read_text(encoding="utf-8") == "one\n"
        assert _statuses(client) == {"c1": "failed"}

        # "Always allow in this project" answers this call and saves a rule for the next.
        client.choose = "allow_project"
        await agent.prompt(session_id=session.session_id, prompt=_prompt("do it after all"))
        assert (project / "a.txt").read_text(encoding="utf-8") == "four\n"
        assert _statuses(client) == {"c1": "failed", "c2": "completed", "c3": "completed"}
        assert [call.tool_call_id for call, _ in client.permissions] == ["c1", "c2"]
        assert "edit(a.txt)" in (project / ".arcan" / "permissions.toml").read_text()
    finally:
        await agent.aclose()


async def test_unsupported_requests_answer_errors(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    client = RecordingClient()
    agent = _agent(tmp_path, [{"text": "hi"}], client)
    try:
        with pytest.raises(RequestError):
            await agent.prompt(session_id="nope", prompt=_prompt("hello"))
        with pytest.raises(RequestError):
            await agent.authenticate(method_id="oauth")
        with pytest.raises(RequestError):
            await agent.ext_method("arcan/anything", {})
        session = await agent.new_session(cwd=str(project))
        with pytest.raises(RequestError):
            await agent.set_config_option(
                config_id="model", session_id=session.session_id, value="x"
            )
        with pytest.raises(RequestError) as caught:
            await agent.load_session(cwd=str(project), session_id="20991231T000000-000000")
        assert caught.value.code == -32002
        await agent.close_session(session_id=session.session_id)
        with pytest.raises(RequestError):
            await agent.close_session(session_id=session.session_id)
    finally:
        await agent.aclose()


async def test_editor_mcp_servers_and_skipped_transports_are_reported(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    client = RecordingClient()
    agent = _agent(tmp_path, [{"text": "ready"}], client)
    servers: list[Any] = [
        McpServerStdio(name="echo", command=sys.executable, args=[str(ECHO)], env=[]),
        McpServerStdio(name="broken", command=str(tmp_path / "missing"), args=[], env=[]),
        SseMcpServer(type="sse", name="old", url="http://127.0.0.1:9/sse", headers=[]),
    ]
    try:
        session = await agent.new_session(cwd=str(project), mcp_servers=servers)
        await agent.prompt(session_id=session.session_id, prompt=_prompt("hello"))
        shown = client.texts(AgentMessageChunk)
        assert "MCP server 'old': its transport is not supported" in shown
        assert "MCP server 'broken': failed to start: command not found" in shown
        assert shown.endswith("ready")
    finally:
        await agent.aclose()


async def test_an_mcp_crash_mid_session_reaches_the_editor(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    steps: list[dict[str, Any]] = [
        {"tool_calls": [{"id": "boom", "name": "mcp__echo__crash", "args": {}}]},
        {"text": "The server fell over."},
        {"text": "Next."},
    ]
    client = RecordingClient()
    agent = _agent(tmp_path, steps, client)
    echo = McpServerStdio(name="echo", command=sys.executable, args=[str(ECHO)], env=[])
    try:
        session = await agent.new_session(cwd=str(project), mcp_servers=[echo])
        await agent.prompt(session_id=session.session_id, prompt=_prompt("crash it"))
        assert _statuses(client) == {"boom": "failed"}
        outputs = [
            u.raw_output
            for u in client.updates
            if isinstance(u, ToolCallProgress) and u.tool_call_id == "boom" and u.raw_output
        ]
        assert "exited during the call" in outputs[-1]["result"]
        await agent.prompt(session_id=session.session_id, prompt=_prompt("and now?"))
        assert "> MCP server 'echo': exited during the call" in client.texts(AgentMessageChunk)
    finally:
        await agent.aclose()


async def test_resume_reopens_without_replaying(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    client = RecordingClient()
    # Each core gets a fresh scripted provider, which plays its script from the start.
    agent = _agent(tmp_path, [{"text": "hi"}], client)
    try:
        session = await agent.new_session(cwd=str(project))
        await agent.prompt(session_id=session.session_id, prompt=_prompt("one"))
        await agent.close_session(session_id=session.session_id)
        before = _transcript(client)
        resumed = await agent.resume_session(session_id=session.session_id, cwd=str(project))
        assert resumed.modes is not None
        assert _transcript(client) == before  # nothing replayed
        await agent.prompt(session_id=session.session_id, prompt=_prompt("two"))
        assert client.texts(AgentMessageChunk) == "hihi"
    finally:
        await agent.aclose()


class FakeCore:
    """A core that answers operations with scripted events (to drive edge cases exactly)."""

    session_id = "20261125T000000-fake00"

    def __init__(self) -> None:
        self.ops: list[Operation] = []
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._seq = 0

    def publish(self, msg: EventMsg, parent: str | None = None) -> None:
        self._seq += 1
        now = datetime.now(UTC)
        event = Event(
            session_id=self.session_id, seq=self._seq, ts=now, parent_call_id=parent, msg=msg
        )
        self._queue.put_nowait(event)

    def submit(self, op: Operation) -> str:
        self.ops.append(op)
        if isinstance(op, SubmitPrompt):
            request = ApprovalRequest(
                tool="bash", summary="bash ls", preview="ls", cwd="/", reason="ask"
            )
            asking = ToolCallAwaitingApproval(
                call_id="sub1", name="bash", input={}, request=request
            )
            # A sub-agent's call: asked (once, though published twice); its other events and its
            # own end of turn stay out of the editor's transcript.
            self.publish(asking, parent="task1")
            self.publish(asking, parent="task1")
            self.publish(TextDelta(text="sub-agent chatter"), parent="task1")
            self.publish(TurnFinished(turn_id="sub", stop_reason="end_turn"), parent="task1")
        elif isinstance(op, AnswerApproval):
            self.publish(TextDelta(text="main reply"))
            self.publish(TurnFinished(turn_id="main", stop_reason="end_turn"))
        elif isinstance(op, Shutdown):
            self._queue.put_nowait(None)
        return f"s{len(self.ops)}"

    async def _events(self) -> AsyncIterator[Event]:
        while (event := await self._queue.get()) is not None:
            yield event

    def subscribe(self, *, replay: bool = False) -> AsyncIterator[Event]:
        return self._events()

    async def wait_closed(self) -> None:
        return None


async def test_sub_agent_events_do_not_end_the_prompt(tmp_path: Path) -> None:
    client = RecordingClient()
    core = FakeCore()
    session = AcpSession(client, core, workspace=tmp_path, titled=True)
    try:
        response = await session.prompt(_prompt("go"))
        assert response.stop_reason == "end_turn"
        assert [call.tool_call_id for call, _ in client.permissions] == ["sub1"]
        answers = [op for op in core.ops if isinstance(op, AnswerApproval)]
        assert [(a.call_id, a.decision) for a in answers] == [("sub1", "allow")]
        assert client.texts(AgentMessageChunk) == "main reply"
    finally:
        await session.close()


async def test_slash_commands(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    client = RecordingClient()
    agent = _agent(tmp_path, [{"text": "a model reply"}], client)
    try:
        session = await agent.new_session(cwd=str(project))
        answers: list[str] = []
        commands = (
            "/harness on",
            "/harness maybe",
            "/undo",
            "/compact",
            "/model",
            "/effort HIGH",
            "/effort extreme",
        )
        for text in commands:
            before = client.texts(AgentMessageChunk)
            response = await agent.prompt(session_id=session.session_id, prompt=_prompt(text))
            assert response.stop_reason == "end_turn"
            answers.append(client.texts(AgentMessageChunk)[len(before) :])
        assert answers == [
            "Harness on",
            "say /harness on or /harness off",
            "nothing to undo: no checkpoint of a finished task",
            "nothing to compact yet: the conversation is all recent turns",
            "name a model: /model NAME or /model PROVIDER/NAME",
            "Effort: high (kept for a model that reasons; this one does not)",
            "say /effort and one of: off, minimal, low, medium, high",
        ]
        # Not a command: an ordinary prompt for the model.
        await agent.prompt(session_id=session.session_id, prompt=_prompt("/etc/hosts is odd"))
        assert client.texts(AgentMessageChunk).endswith("a model reply")
        (listed,) = [u for u in client.updates if isinstance(u, AvailableCommandsUpdate)]
        names = [command.name for command in listed.available_commands]
        assert names == ["compact", "undo", "harness", "model", "effort"]
    finally:
        await agent.aclose()
