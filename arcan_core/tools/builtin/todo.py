"""The ``todo`` tool: the agent's plan as a checklist the user can follow."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolInputError
from arcan_core.protocol.events import ToolDisplay
from arcan_core.tools.base import Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.state import TodoItem, TodoStatus

__all__ = ["TodoEntry", "TodoInput", "TodoTool"]

MAX_ITEMS = 50
_MARKS: dict[TodoStatus, str] = {"pending": "[ ]", "in_progress": "[~]", "completed": "[x]"}


class TodoEntry(BaseModel):
    """One step as the model writes it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    content: str = Field(min_length=1, max_length=500, description="What the step does.")
    status: TodoStatus = Field(description="pending, in_progress or completed.")


class TodoInput(BaseModel):
    """Input of ``todo``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    todos: list[TodoEntry] = Field(
        max_length=MAX_ITEMS, description="The whole plan; it replaces the previous one."
    )


class TodoTool(Tool[TodoInput]):
    """Replace the plan's checklist."""

    name: ClassVar[str] = "todo"
    description: ClassVar[str] = (
        "Keep a short plan for multi-step work: send the whole checklist each time (it replaces "
        "the previous one), marking one step in_progress while you work on it and steps "
        "completed as soon as they are done. The user sees the checklist."
    )
    input_model: ClassVar[type[BaseModel]] = TodoInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "meta"

    async def run(self, args: TodoInput, ctx: ToolContext) -> ToolResult:
        """Store the plan and echo it as a checklist."""
        active = sum(1 for t in args.todos if t.status == "in_progress")
        if active > 1:
            raise ToolInputError(
                f"{active} steps are in_progress; keep exactly one in progress at a time"
            )
        ctx.session.todos = [TodoItem(content=t.content, status=t.status) for t in args.todos]
        items = tuple(f"{_MARKS[t.status]} {t.content}" for t in args.todos)
        done = sum(1 for t in args.todos if t.status == "completed")
        text = "\n".join(items) if items else "(the plan is empty)"
        return ToolResult(
            content=f"Plan updated ({done}/{len(items)} done):\n{text}",
            display=ToolDisplay(kind="todo", items=items),
        )
