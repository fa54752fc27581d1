"""Plain ``arcan exec`` output is scrubbed like the log and ``--json``: no key on a terminal."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from arcan_core.config.secrets import Redactor
from arcan_core.protocol.events import (
    ErrorEvent,
    Event,
    EventMsg,
    MessageAppended,
    ToolCallFinished,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.messages import Message, TextBlock
from arcan_tui.headless import HeadlessPrinter

SECRET = "sk-live-0123456789abcdef"


def _events(*msgs: EventMsg) -> list[Event]:
    now = datetime.now(UTC)
    return [Event(session_id="s", seq=i, ts=now, msg=msg) for i, msg in enumerate(msgs, 1)]


def test_the_answer_and_progress_lines_never_show_a_key() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = HeadlessPrinter(out, err, redactor=Redactor({"SERVICE_API_KEY": SECRET}))
    for event in _events(
        TurnStarted(turn_id="t1", prompt="deploy"),
        ToolCallFinished(
            call_id="c1",
            name="bash",
            input={"command": f"curl -H 'Authorization: Bearer {SECRET}' https://x"},
            result=f"401 for {SECRET}",
            is_error=True,
        ),
        ErrorEvent(
            kind="AuthError", message=f"the server said {SECRET} is wrong", hint=f"rotate {SECRET}"
        ),
        MessageAppended(
            message=Message(role="assistant", content=(TextBlock(text=f"The key {SECRET}."),))
        ),
        TurnFinished(turn_id="t1", stop_reason="end_turn"),
    ):
        printer.handle(event)
    printer.final()
    assert SECRET not in out.getvalue()
    assert SECRET not in err.getvalue()
    # What is around the key is still there: the user sees what happened.
    assert "The key " in out.getvalue()
    assert "curl -H" in err.getvalue()
    assert "rotate" in err.getvalue()
