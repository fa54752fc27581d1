"""The built-in demo of ``--provider scripted``: read a file, create it if missing, edit it.

Each step is decided from the conversation since the user's last prompt (the last tool call and
its result), not from a counter, so the demo works on every prompt, in a resumed session, and
in a directory where an earlier demo already ran: it reads ``arcan_demo.py``; if the file is
missing it writes it; then it edits it, flipping the greeting between string concatenation and
an f-string, so there is always a real diff to show. A refused or failed call ends the demo with
an explanation instead of pressing on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.protocol.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock
from arcan_core.providers.scripted import ScriptStep

if TYPE_CHECKING:
    from arcan_core.providers.base import ProviderRequest

__all__ = ["DEMO_FILE", "demo_step"]

DEMO_FILE = "arcan_demo.py"
_PLAIN = 'return "Hello, " + name'
_FSTRING = 'return f"Hello, {name}!"'
_CONTENT = f'''"""A tiny file the arcan demo reads and edits."""


def greet(name: str) -> str:
    {_PLAIN}


if __name__ == "__main__":
    print(greet("world"))
'''
_PACE = 0.015
_OUTRO = (
    "That was the whole loop: think, call tools, look at the results, change code. To use a real "
    "model, set `ANTHROPIC_API_KEY` or `OPENAI_API_KEY`, or run a local server (llama.cpp, "
    "Ollama, vLLM, LM Studio) and use `--provider local`."
)


def _since_prompt(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """The messages after the user's last typed prompt (tool results are not prompts)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role == "user" and any(isinstance(b, TextBlock) for b in message.content):
            return messages[index + 1 :]
    return messages


def _last_call(recent: tuple[Message, ...]) -> tuple[ToolUseBlock, ToolResultBlock] | None:
    results = {
        block.tool_use_id: block
        for message in recent
        if message.role == "user"
        for block in message.content
        if isinstance(block, ToolResultBlock)
    }
    for message in reversed(recent):
        for call in reversed(message.tool_uses()):
            result = results.get(call.id)
            if result is not None:
                return call, result
    return None


def _step(**fields: object) -> ScriptStep:
    return ScriptStep.model_validate({"chunk_delay_s": _PACE, **fields})


def _call(name: str, args: dict[str, str]) -> list[dict[str, object]]:
    return [{"name": name, "args": args}]


def _edit_step(content: str) -> ScriptStep:
    if _PLAIN in content:
        old, new, why = _PLAIN, _FSTRING, "an f-string reads better than concatenation"
    elif _FSTRING in content:
        old, new, why = _FSTRING, _PLAIN, "flip it back to concatenation, to show another diff"
    else:
        return _step(
            text=f"`{DEMO_FILE}` no longer has the greeting this demo edits, so I'll leave it be. "
            + _OUTRO
        )
    return _step(
        thinking=f"The greeting is there; {why}.",
        text="I'll change the greeting with a small, exact edit.",
        tool_calls=_call("edit", {"path": DEMO_FILE, "old": old, "new": new}),
    )


def demo_step(request: ProviderRequest) -> ScriptStep:
    """Decide the demo's next step from the conversation."""
    last = _last_call(_since_prompt(request.messages))
    if last is None:
        return _step(
            thinking=(
                "This is the scripted demo: no model is involved. I'll read a small file, "
                "create it if it is missing, and improve it with an edit."
            ),
            text=(
                "Hi! I'm arcan running the **built-in demo** (no API key needed). "
                f"Let me look at `{DEMO_FILE}`."
            ),
            tool_calls=_call("read", {"path": DEMO_FILE}),
        )
    call, result = last
    if call.name == "read" and result.is_error:
        return _step(
            text=f"`{DEMO_FILE}` doesn't exist yet, so I'll create it.",
            tool_calls=_call("write", {"path": DEMO_FILE, "content": _CONTENT}),
        )
    if result.is_error:
        return _step(
            text=f"The `{call.name}` call didn't go through ({result.content.strip()[:200]}). "
            "That ends the demo. " + _OUTRO
        )
    if call.name == "read":
        return _edit_step(result.content)
    if call.name == "write":
        return _edit_step(str(call.input.get("content", "")))
    return _step(text=f"Done: `{DEMO_FILE}` is edited.\n\n{_OUTRO}")
