"""Sub-agent profiles: which tools a ``task`` sub-agent gets and what it is told.

The built-in profile, ``explore``, is the default: read-only tools, for research. A project or a
user adds profiles as Markdown files, the format other agents use for theirs::

    ---
    name: fixer
    description: Fixes one failing test at a time and reports the diff.
    tools: read, grep, glob, edit, bash
    ---
    You fix exactly one failing test. Run it first, then ...

``tools`` lists the tools the sub-agent may use (never ``task``: sub-agents do not nest); without
it the profile is read-only like ``explore``. The body is added to the sub-agent's system prompt.
Searched, first found wins for a name: ``.arcan/agents/``, ``.agents/agents/`` (project), then
``~/.agents/agents/`` (user).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from arcan_core.agent.skills import split_frontmatter

__all__ = ["EXPLORE", "AgentProfile", "agent_dirs", "discover_agent_profiles", "parse_profile"]

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 300
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class AgentProfile:
    """One kind of sub-agent.

    Attributes:
        name: what the ``task`` tool's ``agent`` argument names it by.
        description: when to use it (shown to the model).
        tools: the tools it may use; ``None`` for the read-only set.
        instructions: added to the sub-agent's system prompt.
        path: the file it came from (``None`` for the built-in one).
    """

    name: str
    description: str
    tools: frozenset[str] | None = None
    instructions: str = ""
    path: Path | None = None

    @property
    def read_only(self) -> bool:
        """Whether the profile only has the read-only tool set."""
        return self.tools is None


EXPLORE = AgentProfile(
    name="explore",
    description="Read-only research: searches and reads the code and reports what it found.",
)
"""The default profile: the read-only tools of the ``plan`` mode."""


def _tool_names(value: str) -> frozenset[str]:
    """Parse ``read, grep`` or ``[read, grep]`` (commas or spaces) into tool names."""
    return frozenset(part for part in re.split(r"[\s,\[\]'\"]+", value) if part)


def parse_profile(path: Path) -> AgentProfile | None:
    """Read one profile file; ``None`` (with a log line) when it is not a usable profile."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        log.warning("sub-agent profile %s: %s", path, error)
        return None
    fields, body = split_frontmatter(text)
    name = fields.get("name") or path.stem
    description = fields.get("description", "")
    if not _NAME.match(name) or not description:
        log.warning("sub-agent profile %s: needs a plain name and a description", path)
        return None
    tools = _tool_names(fields["tools"]) if fields.get("tools") else None
    return AgentProfile(
        name=name,
        description=description[:MAX_DESCRIPTION],
        tools=tools,
        instructions=body.strip(),
        path=path,
    )


def agent_dirs(project_dir: Path, home: Path | None = None) -> list[Path]:
    """Return the directories searched for profiles, in priority order."""
    user_home = home if home is not None else Path.home()
    return [
        project_dir / ".arcan" / "agents",
        project_dir / ".agents" / "agents",
        user_home / ".agents" / "agents",
    ]


def discover_agent_profiles(project_dir: Path, home: Path | None = None) -> list[AgentProfile]:
    """Return ``explore`` and every profile found; the first directory defining a name wins."""
    found: dict[str, AgentProfile] = {EXPLORE.name: EXPLORE}
    for directory in agent_dirs(project_dir, home):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.md")):
            profile = parse_profile(path)
            if profile is not None and profile.name not in found:
                found[profile.name] = profile
    return list(found.values())
