"""Skills: ``SKILL.md`` files that teach the agent a procedure, loaded only when used.

A skill is a directory holding ``SKILL.md``, whose YAML-style frontmatter gives ``name`` and
``description``. The system prompt lists every skill by description; the model loads one with the
``skill`` tool, which returns the body (and the skill's directory, so it can read files beside it).
Searched, first found wins for a name: ``.arcan/skills/``, ``.agents/skills/`` (project), then
``~/.agents/skills/`` (user), the layout other agents share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolInputError
from arcan_core.tools.base import Tool, ToolCategory, ToolContext, ToolResult

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Skill", "SkillTool", "discover_skills", "parse_skill", "split_frontmatter"]

SKILL_FILE = "SKILL.md"
MAX_DESCRIPTION = 300


@dataclass(frozen=True)
class Skill:
    """One skill: its name, when to use it, and where it lives."""

    name: str
    description: str
    path: Path

    def body(self) -> str:
        """Return the instructions (the file without its frontmatter)."""
        text = self.path.read_text(encoding="utf-8", errors="replace")
        _, body = split_frontmatter(text)
        return body.strip()


def split_frontmatter(text: str) -> tuple[dict[str, str], str]:
    """Split ``---`` frontmatter (flat ``key: value`` pairs) from the body.

    Values may be quoted, or YAML block scalars (``>`` or ``|``) whose indented lines follow;
    nested structures are not needed for a skill and are ignored.
    """
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end == -1:
        return {}, text
    fields: dict[str, str] = {}
    block_key: str | None = None
    block: list[str] = []
    for line in text[3:end].splitlines():
        if block_key is not None and (line.startswith((" ", "\t")) or not line.strip()):
            block.append(line.strip())
            continue
        if block_key is not None:
            fields[block_key] = " ".join(part for part in block if part)
            block_key, block = None, []
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or line.startswith((" ", "\t")):
            continue
        value = value.strip()
        if value in (">", "|", ">-", "|-"):
            block_key = key.strip()
        else:
            fields[key.strip()] = value.strip("'\"")
    if block_key is not None:
        fields[block_key] = " ".join(part for part in block if part)
    return fields, text[end + 4 :]


def parse_skill(path: Path) -> Skill | None:
    """Read a ``SKILL.md``; ``None`` when it lacks a name or a description."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields, _ = split_frontmatter(text)
    name = fields.get("name") or path.parent.name
    description = fields.get("description", "")
    if not name or not description:
        return None
    return Skill(name=name, description=description[:MAX_DESCRIPTION], path=path)


def skill_dirs(project_dir: Path, home: Path | None = None) -> list[Path]:
    """Return the directories searched for skills, in priority order."""
    user_home = home if home is not None else Path.home()
    return [
        project_dir / ".arcan" / "skills",
        project_dir / ".agents" / "skills",
        user_home / ".agents" / "skills",
    ]


def discover_skills(project_dir: Path, home: Path | None = None) -> list[Skill]:
    """Find every skill; the first directory that defines a name wins."""
    found: dict[str, Skill] = {}
    for directory in skill_dirs(project_dir, home):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob(f"*/{SKILL_FILE}")):
            skill = parse_skill(path)
            if skill is not None and skill.name not in found:
                found[skill.name] = skill
    return list(found.values())


class SkillInput(BaseModel):
    """Input of the ``skill`` tool."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The name of the skill to load, as listed in the prompt.")


class SkillTool(Tool[SkillInput]):
    """Load a skill's instructions into the conversation."""

    name: ClassVar[str] = "skill"
    description: ClassVar[str] = (
        "Load the instructions of one of the skills listed in the system prompt. Use it when the "
        "task matches a skill's description, before starting the work."
    )
    input_model: ClassVar[type[BaseModel]] = SkillInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "read"

    def __init__(self, skills: Sequence[Skill] = ()) -> None:
        self.skills = {skill.name: skill for skill in skills}

    async def run(self, args: SkillInput, ctx: ToolContext) -> ToolResult:
        """Return the skill's body."""
        del ctx
        skill = self.skills.get(args.name)
        if skill is None:
            known = ", ".join(sorted(self.skills)) or "none"
            raise ToolInputError(f"no skill named {args.name!r} (available: {known})")
        try:
            body = skill.body()
        except OSError as error:
            raise ToolInputError(f"cannot read skill {args.name}: {error.strerror}") from error
        return ToolResult(
            content=f'<skill name="{skill.name}" dir="{skill.path.parent}">\n{body}\n</skill>'
        )

    def summary(self, args: SkillInput, ctx: ToolContext) -> str:
        """One line for approvals and progress."""
        del ctx
        return f"load skill {args.name}"
