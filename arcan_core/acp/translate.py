"""arcan's events and answers in ACP's terms, and ACP's prompts in arcan's.

``EventTranslator`` turns each core event into the ACP session updates an editor shows: text and
thinking chunks, tool calls with their status, content, locations and diffs, the current mode,
usage, and the harness's sensor readings as a plan. It is a pure mapping with a little memory
(tool titles, the plan so far), so it is tested without a connection.

Approvals: ACP offers permission *options*; arcan answers with a *scope*. ``permission_options``
builds one option per scope the request allows (allow once; allow for the session; always allow
in the project; always allow a pattern) plus a rejection, and maps the chosen option back to an
``AnswerApproval``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from acp.helpers import (
    plan_entry,
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_current_mode,
    update_plan,
    update_tool_call,
    update_user_message_text,
)
from acp.schema import (
    AgentMessageChunk,
    AgentPlanUpdate,
    AgentThoughtChunk,
    AudioContentBlock,
    AvailableCommandsUpdate,
    ContentToolCallContent,
    Cost,
    CurrentModeUpdate,
    EmbeddedResourceContentBlock,
    FileEditToolCallContent,
    ImageContentBlock,
    PermissionOption,
    PlanEntry,
    ResourceContentBlock,
    SessionInfoUpdate,
    TextContentBlock,
    TextResourceContents,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    ToolCallUpdate,
    UsageUpdate,
    UserMessageChunk,
)

from arcan_core.acp.diffs import parse_unified_diff
from arcan_core.protocol.events import (
    ContextCompacted,
    ControllerDecision,
    ErrorEvent,
    EventMsg,
    FilesRestored,
    HarnessToggled,
    ModeChanged,
    ModelChanged,
    SensorReading,
    TextDelta,
    ThinkingDelta,
    ToolCallAwaitingApproval,
    ToolCallFinished,
    ToolCallOutput,
    ToolCallStarted,
    ToolDisplay,
    UsageUpdated,
    Warning,  # noqa: A004 - the protocol's name for the event
)
from arcan_core.protocol.messages import (
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from arcan_core.protocol.operations import AnswerApproval, ApprovalScope

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from arcan_core.protocol.events import ApprovalRequest

__all__ = [
    "MODES",
    "EventTranslator",
    "PromptBlock",
    "SessionUpdate",
    "builtin_categories",
    "diff_contents",
    "permission_options",
    "prompt_to_arcan",
    "replay_messages",
    "resolve_path",
    "tool_kind",
]

SessionUpdate = (
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallStart
    | ToolCallProgress
    | AgentPlanUpdate
    | CurrentModeUpdate
    | UsageUpdate
    | SessionInfoUpdate
    | AvailableCommandsUpdate
)
"""The updates arcan sends (a subset of what ``Client.session_update`` accepts)."""

PromptBlock = (
    TextContentBlock
    | ImageContentBlock
    | AudioContentBlock
    | ResourceContentBlock
    | EmbeddedResourceContentBlock
)

ToolKind = Literal[
    "read", "edit", "delete", "move", "search", "execute", "think", "fetch", "switch_mode", "other"
]
ToolContent = ContentToolCallContent | FileEditToolCallContent

MODES: dict[str, tuple[str, str]] = {
    "plan": ("Plan", "Read-only: the agent looks and proposes; nothing is changed"),
    "ask": ("Ask", "Reads run freely; every edit and command asks first"),
    "auto-edit": ("Auto-edit", "Edits inside the workspace run freely; commands ask first"),
    "full-auto": ("Full auto", "Everything inside the workspace runs without asking"),
}
"""arcan's approval modes as ACP session modes: id -> (name, description)."""

_OUTPUT_TAIL = 4000
"""Characters of a running command's output an editor sees live."""
_OUTPUT_STEP = 1000
"""Live output is re-sent each time this many more characters have arrived."""

_CATEGORY_KINDS: dict[str, ToolKind] = {
    "read": "read",
    "edit": "edit",
    "execute": "execute",
    "fetch": "fetch",
    "meta": "think",
}
"""arcan tool category -> ACP tool kind (how an editor draws the call)."""


def tool_kind(name: str, categories: Mapping[str, str]) -> ToolKind:
    """Return the ACP kind of tool ``name`` from its arcan category (``other`` when unknown)."""
    return _CATEGORY_KINDS.get(categories.get(name, ""), "other")


def builtin_categories() -> dict[str, str]:
    """Return the category of every built-in tool, by name."""
    from arcan_core.tools.builtin import BUILTIN_TOOLS  # noqa: PLC0415 - the tool set loads late

    return {tool.name: tool.category for tool in BUILTIN_TOOLS}


def _title(name: str, arguments: Mapping[str, Any]) -> str:
    for key in ("path", "file_path", "command", "pattern", "url", "query"):
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return f"{name} {value}" if len(value) < 120 else f"{name} {value[:117]}…"
    return name


def _locations(workspace: Path, arguments: Mapping[str, Any]) -> list[ToolCallLocation]:
    value = arguments.get("path", arguments.get("file_path"))
    if not isinstance(value, str) or not value:
        return []
    return [ToolCallLocation(path=str((workspace / value).resolve()))]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def diff_contents(workspace: Path, diff: str, *, applied: bool) -> list[ToolContent]:
    """Turn a unified diff into ACP diff blocks (old and new text of each file).

    Args:
        workspace: where the diff's relative paths start.
        diff: the unified diff.
        applied: the change is on disk already (a finished edit), so the old text is recovered
            by undoing it; otherwise (an approval) the new text is made by applying it.

    Returns:
        One diff block per file, or the diff as a text block when it does not fit the files.
    """
    fallback: list[ToolContent] = [tool_content(text_block(f"```diff\n{diff}```"))]
    blocks: list[ToolContent] = []
    for patch in parse_unified_diff(diff):
        path = (workspace / patch.path).resolve()
        if applied and patch.new_path is None:
            current: str | None = ""  # a deletion: nothing is on disk any more
        elif not applied and patch.old_path is None:
            current = ""  # a new file: nothing is on disk yet
        else:
            current = _read(path)
        other = None if current is None else patch.apply(current, reverse=applied)
        if current is None or other is None:
            return fallback
        old, new = (other, current) if applied else (current, other)
        blocks.append(tool_diff_content(str(path), new, None if patch.old_path is None else old))
    return blocks or fallback


class EventTranslator:
    """Turns core events into ACP session updates for one session.

    Args:
        workspace: the session's project root (ACP wants absolute paths).
        categories: tool name -> arcan category, for the kind an editor shows.
    """

    def __init__(self, workspace: Path, categories: Mapping[str, str]) -> None:
        self._workspace = workspace
        self._categories = categories
        self._titles: dict[str, str] = {}
        self._running: set[str] = set()
        self._output: dict[str, str] = {}
        self._output_seen: dict[str, int] = {}
        self._plan: dict[str, PlanEntry] = {}
        self._handlers: dict[type[Any], Callable[[Any], list[SessionUpdate]]] = {
            TextDelta: self._text,
            ThinkingDelta: self._thinking,
            ToolCallStarted: self._tool_started,
            ToolCallOutput: self._tool_output,
            ToolCallFinished: self._tool_finished,
            ModeChanged: self._mode,
            UsageUpdated: self._usage,
            SensorReading: self._sensor,
            ControllerDecision: self._decision,
            ErrorEvent: self._error,
            Warning: self._warning,
            ContextCompacted: self._notice,
            FilesRestored: self._notice,
            ModelChanged: self._notice,
            HarnessToggled: self._notice,
        }

    def updates(self, msg: EventMsg) -> list[SessionUpdate]:
        """Return the updates for one event (none for events an editor has no place for)."""
        handler = self._handlers.get(type(msg))
        return handler(msg) if handler is not None else []

    def kind(self, name: str) -> ToolKind:
        """The ACP kind of a tool."""
        return tool_kind(name, self._categories)

    def approval_call(self, msg: ToolCallAwaitingApproval) -> ToolCallUpdate:
        """The tool call as a permission request shows it: title, input, and the preview."""
        request = msg.request
        title = request.summary or _title(msg.name, msg.input)
        self._titles[msg.call_id] = title
        content: list[ToolContent]
        if request.preview_kind == "diff":
            content = diff_contents(self._workspace, request.preview, applied=False)
        elif request.preview_kind == "command":
            content = [tool_content(text_block(f"```sh\n{request.preview}\n```"))]
        else:
            content = [tool_content(text_block(request.preview))] if request.preview else []
        return ToolCallUpdate(
            tool_call_id=msg.call_id,
            title=title,
            kind=self.kind(msg.name),
            status="pending",
            raw_input=msg.input,
            content=list(content),
            locations=_locations(self._workspace, msg.input) or None,
        )

    # -- handlers -----------------------------------------------------------------------------

    def _text(self, msg: TextDelta) -> list[SessionUpdate]:
        return [update_agent_message_text(msg.text)]

    def _thinking(self, msg: ThinkingDelta) -> list[SessionUpdate]:
        return [update_agent_thought_text(msg.text)]

    def _tool_started(self, msg: ToolCallStarted) -> list[SessionUpdate]:
        self._titles[msg.call_id] = msg.name
        return [start_tool_call(msg.call_id, msg.name, kind=self.kind(msg.name), status="pending")]

    def _tool_output(self, msg: ToolCallOutput) -> list[SessionUpdate]:
        # ACP replaces a call's content on each update, so live output is sent as its tail, and
        # only when it has grown by another step: the cost stays linear in the output.
        before = self._output.get(msg.call_id, "")
        output = (before + msg.chunk)[-_OUTPUT_TAIL:]
        grown = self._output_seen.get(msg.call_id, 0) + len(msg.chunk)
        self._output[msg.call_id], self._output_seen[msg.call_id] = output, grown
        first = msg.call_id not in self._running
        if not first and grown // _OUTPUT_STEP == (grown - len(msg.chunk)) // _OUTPUT_STEP:
            return []
        self._running.add(msg.call_id)
        content = [tool_content(text_block(f"```\n{output}\n```"))]
        return [update_tool_call(msg.call_id, status="in_progress", content=content)]

    def _tool_finished(self, msg: ToolCallFinished) -> list[SessionUpdate]:
        self._running.discard(msg.call_id)
        self._output.pop(msg.call_id, None)
        self._output_seen.pop(msg.call_id, None)
        title = _title(msg.name, msg.input)
        self._titles[msg.call_id] = title
        content = self._result_content(msg.result, msg.display)
        return [
            update_tool_call(
                msg.call_id,
                title=title,
                status="failed" if msg.is_error or msg.denied else "completed",
                content=content,
                locations=_locations(self._workspace, msg.input) or None,
                raw_input=msg.input,
                raw_output={"result": msg.result, "is_error": msg.is_error},
            )
        ]

    def _result_content(self, result: str, display: ToolDisplay | None) -> list[ToolContent]:
        if display is not None and display.kind == "diff" and display.diff:
            return diff_contents(self._workspace, display.diff, applied=True)
        if display is not None and display.kind == "shell":
            shown = "\n".join(part for part in (display.stdout, display.stderr) if part)
            return [tool_content(text_block(f"```\n{shown or result}\n```"))]
        return [tool_content(text_block(result))] if result else []

    def _mode(self, msg: ModeChanged) -> list[SessionUpdate]:
        return [update_current_mode(msg.mode)]

    def _usage(self, msg: UsageUpdated) -> list[SessionUpdate]:
        if msg.context_window <= 0:
            return []
        return [
            UsageUpdate(
                session_update="usage_update",
                used=msg.context_tokens,
                size=msg.context_window,
                cost=Cost(amount=msg.session_cost_usd, currency="USD"),
            )
        ]

    def _sensor(self, msg: SensorReading) -> list[SessionUpdate]:
        status: Literal["pending", "in_progress", "completed"] = (
            "completed" if msg.met else "in_progress" if msg.status == "running" else "pending"
        )
        value = f": {msg.value}" if msg.value else ""
        self._plan[msg.setpoint] = plan_entry(
            f"{msg.setpoint}{value} ({msg.sensor}, {msg.status})",
            priority="low" if msg.met else "high",
            status=status,
        )
        return [update_plan(self._plan.values())]

    def _decision(self, msg: ControllerDecision) -> list[SessionUpdate]:
        rules = f" [{', '.join(msg.rules)}]" if msg.rules else ""
        line = f"harness: {msg.mode}{rules}"
        if msg.rationale:
            line += f": {msg.rationale}"
        if msg.stop_reason is not None or msg.mode == "ask_human":
            # A stop or a question is for the user: it goes into the visible message.
            return [update_agent_message_text(f"\n\n> {line}\n\n")]
        return [update_agent_thought_text(f"{line}\n")]

    def _error(self, msg: ErrorEvent) -> list[SessionUpdate]:
        hint = f"\n\n{msg.hint}" if msg.hint else ""
        return [update_agent_message_text(f"\n\n**{msg.kind}:** {msg.message}{hint}\n")]

    def _warning(self, msg: Warning) -> list[SessionUpdate]:
        return [update_agent_thought_text(f"warning: {msg.message}\n")]

    def _notice(self, msg: EventMsg) -> list[SessionUpdate]:
        # Compaction, restores, model and harness changes outside a slash command: a side note.
        from arcan_core.acp.commands import outcome_line  # noqa: PLC0415 - avoids a cycle

        line = outcome_line(msg)
        return [update_agent_thought_text(f"{line}\n")] if line else []


# -- permissions ------------------------------------------------------------------------------

_SCOPE_OPTIONS: dict[ApprovalScope, tuple[str, str, Literal["allow_once", "allow_always"]]] = {
    "once": ("allow_once", "Allow once", "allow_once"),
    "session": ("allow_session", "Allow for this session", "allow_always"),
    "project": ("allow_project", "Always allow in this project", "allow_always"),
    "pattern": ("allow_pattern", "Always allow {pattern}", "allow_always"),
}
REJECT_OPTION = "reject"


def permission_options(
    call_id: str, request: ApprovalRequest
) -> tuple[list[PermissionOption], dict[str, AnswerApproval]]:
    """Return the options to offer for ``request`` and the answer each one stands for."""
    options: list[PermissionOption] = []
    answers: dict[str, AnswerApproval] = {}
    for scope in request.scopes:
        option_id, name, kind = _SCOPE_OPTIONS[scope]
        if scope == "pattern":
            if not request.suggested_pattern:
                continue
            name = name.format(pattern=request.suggested_pattern)
        options.append(PermissionOption(option_id=option_id, name=name, kind=kind))
        answers[option_id] = AnswerApproval(
            call_id=call_id,
            decision="allow",
            scope=scope,
            pattern=request.suggested_pattern if scope == "pattern" else None,
        )
    options.append(PermissionOption(option_id=REJECT_OPTION, name="Reject", kind="reject_once"))
    answers[REJECT_OPTION] = AnswerApproval(
        call_id=call_id, decision="deny", reason="the user rejected the call in the editor"
    )
    return options, answers


# -- prompts and history ----------------------------------------------------------------------


def prompt_to_arcan(blocks: Sequence[PromptBlock]) -> tuple[str, tuple[ImageBlock, ...]]:
    """Turn an ACP prompt into arcan's prompt text and images.

    Embedded resources (files the user attached) become tagged text the model can read; links
    become ``@`` mentions; audio is not supported and is named in the text instead.
    """
    parts: list[str] = []
    images: list[ImageBlock] = []
    for block in blocks:
        if isinstance(block, TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, ImageContentBlock):
            images.append(ImageBlock(media_type=block.mime_type, data=block.data))
        elif isinstance(block, ResourceContentBlock):
            parts.append(f"@{block.uri}")
        elif isinstance(block, EmbeddedResourceContentBlock):
            resource = block.resource
            if isinstance(resource, TextResourceContents):
                parts.append(f'<file uri="{resource.uri}">\n{resource.text}\n</file>')
            else:
                # Base64 carries three bytes in four characters; no need to decode to say so.
                size = len(resource.blob) * 3 // 4
                parts.append(f"[attached binary {resource.uri}, about {size} bytes]")
        else:
            parts.append(f"[an audio clip ({block.mime_type}) was attached; arcan cannot hear]")
    return "\n\n".join(parts), tuple(images)


def replay_messages(
    messages: Sequence[Message], workspace: Path, categories: Mapping[str, str]
) -> list[SessionUpdate]:
    """Return the updates that show a loaded conversation in the editor, in order."""
    results: dict[str, ToolResultBlock] = {
        block.tool_use_id: block
        for message in messages
        for block in message.content
        if isinstance(block, ToolResultBlock)
    }
    updates: list[SessionUpdate] = []
    for message in messages:
        for block in message.content:
            if isinstance(block, TextBlock) and block.text:
                updates.append(
                    update_user_message_text(block.text)
                    if message.role == "user"
                    else update_agent_message_text(block.text)
                )
            elif isinstance(block, ThinkingBlock) and block.thinking:
                updates.append(update_agent_thought_text(block.thinking))
            elif isinstance(block, ToolUseBlock):
                result = results.get(block.id)
                failed = result is None or result.is_error
                updates.append(
                    start_tool_call(
                        block.id,
                        _title(block.name, block.input),
                        kind=tool_kind(block.name, categories),
                        status="failed" if failed else "completed",
                        content=[tool_content(text_block(result.content))] if result else None,
                        locations=_locations(workspace, block.input) or None,
                        raw_input=block.input,
                    )
                )
    return updates


def resolve_path(raw: str) -> Path:
    """Return an editor's path as an absolute, resolved path."""
    return Path(raw).expanduser().resolve()
