"""Integration of the core with the real tool system, the session store and the providers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.agent.session import open_core
from arcan_core.protocol.events import ToolCallAwaitingApproval, ToolCallFinished, TurnFinished
from arcan_core.protocol.operations import AnswerApproval, Shutdown, SubmitPrompt
from tests.agent_support import options

if TYPE_CHECKING:
    from pathlib import Path


async def test_each_call_that_needs_approval_is_asked_once(tmp_path: Path) -> None:
    calls = [
        {"name": "write", "args": {"path": f"{n}.txt", "content": n}, "id": f"w_{n}"}
        for n in ("a", "b")
    ]
    steps = [{"tool_calls": calls}, {"text": "done"}]
    core = await open_core(options(tmp_path, steps).replace(tools=None))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="write two files"))
    asked: list[str] = []
    async for event in events:
        if isinstance(event.msg, ToolCallAwaitingApproval):
            asked.append(event.msg.call_id)
            core.submit(AnswerApproval(call_id=event.msg.call_id, decision="allow"))
        if isinstance(event.msg, ToolCallFinished):
            assert not event.msg.is_error, event.msg.result
        if isinstance(event.msg, TurnFinished):
            break
    assert asked == ["w_a", "w_b"]
    assert (tmp_path / "a.txt").read_text() == "a"
    assert (tmp_path / "b.txt").read_text() == "b"
    core.submit(Shutdown())
    await core.wait_closed()
