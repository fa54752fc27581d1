"""The built-in demo of ``--provider scripted``: read a file, create it if missing, edit it.

Each step is decided from the conversation since the user's last prompt (the last tool call and
its result), not from a counter, so the demo works on every prompt, in a resumed session, and
in a directory where an earlier demo already ran: it reads ``arcan_demo.py``; if the file is
missing it writes it; then it edits it, flipping the greeting between string concatenation and
an f-string, so there is always a real diff to show. A refused or failed call ends the demo with
an explanation instead of pressing on, and so does a step whose request does not offer the tool
the demo needs (``plan`` mode offers no edit tools): calling it anyway would only earn an
"unknown tool" error.
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


_REASON_CHARS = 400
"""How much of a failed call's result the demo quotes (cut at a word, never mid-word)."""
_DENIED_HINT = (
    "To let the demo change files, approve the call when asked (`y`), or run it in a mode "
    "that allows edits (`--mode auto-edit`, or `/mode auto-edit`)."
)


def _step(**fields: object) -> ScriptStep:
    return ScriptStep.model_validate({"chunk_delay_s": _PACE, **fields})


def _clip(text: str) -> str:
    """``text`` on one line, cut at a word boundary to at most ``_REASON_CHARS`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= _REASON_CHARS:
        return flat
    return flat[: _REASON_CHARS + 1].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


def _refused(call: ToolUseBlock, result: ToolResultBlock) -> ScriptStep:
    reason = _clip(result.content)
    hint = f" {_DENIED_HINT}" if reason.startswith("denied") else ""
    return _step(
        text=f"The `{call.name}` call didn't go through ({reason}).{hint} That ends the demo. "
        + _OUTRO
    )


def _unavailable(step: ScriptStep, request: ProviderRequest) -> ScriptStep:
    """``step``, or an explanation when it calls a tool this request does not offer."""
    if not request.tools:
        # A request with no tools at all is not a demo step but a summary (compaction).
        return _step(
            text=f"Summary: a session of the built-in demo, which reads `{DEMO_FILE}`, creates "
            "it if it is missing, and edits its greeting. No model is involved."
        )
    offered = {tool.name for tool in request.tools}
    missing = [call.name for call in step.tool_calls if call.name not in offered]
    if not missing:
        return step
    return _step(
        text=f"This step of the demo needs the `{missing[0]}` tool, which the current mode "
        "does not offer (plan mode is read-only), so the demo stops here. Switch with "
        "`/mode auto-edit` (or `--mode auto-edit`) to see it change a file. " + _OUTRO
    )


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
    """Decide the demo's next step from the conversation and the tools the request offers."""
    return _unavailable(_next_step(request), request)


def _next_step(request: ProviderRequest) -> ScriptStep:
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
        return _refused(call, result)
    if call.name == "read":
        return _edit_step(result.content)
    if call.name == "write":
        return _edit_step(str(call.input.get("content", "")))
    return _step(text=f"Done: `{DEMO_FILE}` is edited.\n\n{_OUTRO}")
