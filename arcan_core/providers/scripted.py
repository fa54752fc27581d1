"""The scripted provider: replays a transcript file through the ordinary stream-event path.

It serves tests (a deterministic model), demos, and trying arcan without an API key:
``arcan --provider scripted`` with no script plays a built-in demo (``demo.py``) that reads a small
file, creates it if missing, and edits it, so a new user sees streaming text, thinking, tool
calls, approvals and diffs.

Script format
-------------
A script is a JSON file holding either a list of steps or an object ``{"steps": [...],
"repeat": false}``, or a JSONL file with one step per line (blank lines and lines starting with
``#`` or ``//`` are skipped). Each call to ``stream()`` plays the next step. A step is either a
reply or an error::

    {"thinking": "Let me look first.",          # optional, streamed before the text
     "text": "I'll read the file.",              # optional reply text
     "tool_calls": [                             # optional; ids are made up when absent
        {"name": "read", "args": {"path": "app.py"}, "id": "call_1"}],
     "stop_reason": "tool_use",                  # optional; default: tool_use if calls
     "usage": {"input_tokens": 1200, "output_tokens": 80},   # optional; estimated when absent
     "delay_s": 0.5,                             # optional pause before the first event
     "chunk_delay_s": 0.02,                      # optional pause between chunks
     "chunk_chars": 12}                          # optional characters per text chunk

    {"error": {"type": "overloaded", "message": "Overloaded", "retry_after_s": 2},
     "text": "partial reply"}                    # text (if any) streams first, then the error

Error ``type`` is one of ``auth``, ``rate_limit``, ``overloaded``, ``context_too_long``,
``bad_request``, ``network``, ``stream``; it raises the matching ``arcan_core.errors`` class.
With ``retry_after_s`` and no text, the provider announces a retry (``RetryNotice``), waits, and
plays the next step in the same ``stream()`` call, exactly as a real provider retries an overload.

When the steps run out the provider raises ``StreamError``, unless ``repeat`` is true, in which case
it starts over (the demo repeats for every prompt).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arcan_core.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    ContextTooLongError,
    NetworkError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    StreamError,
)
from arcan_core.protocol.messages import (
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from arcan_core.providers.base import (
    Provider,
    ProviderRequest,
    ProviderSettings,
    StreamEnd,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
    UsageReport,
)
from arcan_core.providers.http import RetryPolicy, Sleep, with_retries

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

__all__ = [
    "Script",
    "ScriptError",
    "ScriptStep",
    "ScriptToolCall",
    "ScriptedProvider",
    "load_script",
]

ErrorType = Literal[
    "auth", "rate_limit", "overloaded", "context_too_long", "bad_request", "network", "stream"
]

_ERROR_CLASSES: dict[str, type[ProviderError]] = {
    "auth": AuthError,
    "rate_limit": RateLimitError,
    "overloaded": OverloadedError,
    "context_too_long": ContextTooLongError,
    "bad_request": BadRequestError,
    "network": NetworkError,
    "stream": StreamError,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScriptToolCall(_Frozen):
    """A tool call the scripted model makes."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptError(_Frozen):
    """A failure the scripted model raises (after streaming the step's text, if any)."""

    type: ErrorType = "stream"
    message: str = "scripted failure"
    hint: str | None = None
    status: int | None = None
    retry_after_s: float | None = Field(default=None, ge=0)
    """Set: the provider retries after this long, as a real one would (only before output)."""


class ScriptStep(_Frozen):
    """One model step: a reply, or an error, with optional pacing."""

    thinking: str | None = None
    text: str | None = None
    tool_calls: tuple[ScriptToolCall, ...] = ()
    stop_reason: StopReason | None = None
    usage: Usage | None = None
    error: ScriptError | None = None
    delay_s: float = Field(default=0.0, ge=0)
    chunk_delay_s: float = Field(default=0.0, ge=0)
    chunk_chars: int = Field(default=12, ge=1)


class Script(_Frozen):
    """A whole transcript."""

    steps: tuple[ScriptStep, ...]
    repeat: bool = False


def load_script(path: str | Path) -> Script:
    """Read a script from a JSON or JSONL file.

    Raises:
        ConfigError: the file is missing or does not follow the script format.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"cannot read the script: {error.strerror}",
            source=source,
            hint="pass an existing transcript file with --script",
        ) from error
    data: Any = _parse_script_text(text, source)
    if isinstance(data, list):
        data = {"steps": data}
    try:
        return Script.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{where}: {first['msg']}",
            source=source,
            hint="see the format in arcan_core/providers/scripted.py",
        ) from error


def _parse_script_text(text: str, source: str) -> Any:
    """Parse one JSON document, or else JSONL (one step per line)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as whole_error:
        if text.lstrip().startswith("["):
            raise _bad_json(source, whole_error.lineno, whole_error.msg) from whole_error
    steps = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        try:
            steps.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise _bad_json(source, number, error.msg) from error
    return steps


def _bad_json(source: str, line: int, msg: str) -> ConfigError:
    return ConfigError(
        f"line {line}: invalid JSON ({msg})",
        source=source,
        hint="a script is a JSON list of steps or one JSON step per line",
    )


def _estimate_tokens(text: str) -> int:
    # About four characters per token: good enough for meters in demos and tests.
    return max(1, len(text) // 4) if text else 0


def _request_text(request: ProviderRequest) -> str:
    parts = [request.system]
    for message in request.messages:
        for block in message.content:
            if isinstance(block, TextBlock | ToolResultBlock):
                parts.append(block.text if isinstance(block, TextBlock) else block.content)
            elif isinstance(block, ThinkingBlock):
                parts.append(block.thinking)
            elif isinstance(block, ToolUseBlock):
                parts.append(json.dumps(block.input))
    return "".join(parts)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class ScriptedProvider(Provider):
    """Replays a ``Script``: each ``stream()`` call plays the next step."""

    name: ClassVar[str] = "scripted"
    default_model: ClassVar[str] = "scripted-demo"

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        script: Script | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(settings)
        self._sleep = sleep
        if script is None and settings.script_path is not None:
            script = load_script(settings.script_path)
        self.script: Script | None = script
        """The transcript, or ``None`` for the built-in demo (see ``demo.py``)."""
        self._next = 0

    @property
    def steps_played(self) -> int:
        """How many steps were started so far."""
        return self._next

    def _take_step(self, request: ProviderRequest) -> tuple[int, ScriptStep]:
        if self.script is None:
            from arcan_core.providers.demo import demo_step  # noqa: PLC0415 - demo imports us

            self._next += 1
            return self._next - 1, demo_step(request)
        steps = self.script.steps
        if self._next >= len(steps):
            if not self.script.repeat or not steps:
                raise StreamError(
                    f"the script has no step {self._next + 1} (it has {len(steps)})",
                    hint='add steps to the transcript file, or set "repeat": true',
                )
            self._next = 0
        index = self._next
        self._next += 1
        return index, steps[index]

    def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        """Play the next step of the script as stream events.

        An error step with ``retry_after_s`` goes through the same retry loop as a real provider
        (a ``RetryNotice``, then the next step); other error steps are raised at once.
        """
        return with_retries(
            lambda: self._play(request),
            policy=RetryPolicy(max_retries=self.settings.max_retries),
            sleep=self._sleep,
            should_retry=lambda error: error.retry_after_s is not None,
        )

    async def _play(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        index, step = self._take_step(request)
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        output: list[str] = []
        if step.thinking:
            for piece in _chunks(step.thinking, step.chunk_chars):
                output.append(piece)
                yield ThinkingChunk(text=piece)
                await self._pace(step)
        if step.text:
            for piece in _chunks(step.text, step.chunk_chars):
                output.append(piece)
                yield TextChunk(text=piece)
                await self._pace(step)
        if step.error is not None:
            error_class = _ERROR_CLASSES[step.error.type]
            raise error_class(
                step.error.message,
                hint=step.error.hint,
                status=step.error.status,
                retry_after_s=step.error.retry_after_s,
            )
        for number, call in enumerate(step.tool_calls):
            call_id = call.id or f"call_scripted_{index}_{number}"
            arguments = json.dumps(call.args)
            output.append(arguments)
            yield ToolCallBegin(call_id=call_id, name=call.name)
            for piece in _chunks(arguments, max(step.chunk_chars, 32)):
                yield ToolCallChunk(call_id=call_id, fragment=piece)
            yield ToolCallEnd(call_id=call_id)
            await self._pace(step)
        usage = step.usage or Usage(
            input_tokens=_estimate_tokens(_request_text(request)),
            output_tokens=_estimate_tokens("".join(output)),
        )
        yield UsageReport(usage=usage)
        stop: StopReason = step.stop_reason or ("tool_use" if step.tool_calls else "end_turn")
        yield StreamEnd(stop_reason=stop)

    @staticmethod
    async def _pace(step: ScriptStep) -> None:
        if step.chunk_delay_s:
            await asyncio.sleep(step.chunk_delay_s)

    async def list_models(self) -> list[str]:
        """The scripted provider offers one pseudo-model."""
        return [self.default_model]
