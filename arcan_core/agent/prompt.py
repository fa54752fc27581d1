"""The system prompt: who the agent is, the environment it works in, and the project's rules.

Project instructions come from ``AGENTS.md`` files (and ``ARCAN.md``, arcan's own name for the same
thing) in the project directory and its parents up to the repository root. They are given
outermost first, so the nearest file comes last and wins where they disagree, as other agents do.

The prompt is built once per session start: a stable system prompt keeps the provider's prompt
cache warm across every request of the session.
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arcan_core.agent.skills import Skill

__all__ = [
    "INSTRUCTION_FILES",
    "Environment",
    "build_system_prompt",
    "find_instruction_files",
    "git_summary",
]

INSTRUCTION_FILES = ("AGENTS.md", "ARCAN.md")
"""Names of project instruction files, in the order they are read within one directory."""

MAX_INSTRUCTION_CHARS = 32_000

IDENTITY = """\
You are arcan, a coding agent working in the user's project from their terminal. You read and \
change files and run commands through your tools. Work until the task is done and verified: \
after changing code, run the project's checks (tests, linters, type checks) when they exist, and \
fix what fails. Keep answers short and concrete; say what you changed and how you checked it. \
Never invent file contents or command output: read or run to find out. Ask the user only when a \
decision is theirs to make."""


@dataclass(frozen=True)
class Environment:
    """Facts about where the agent runs."""

    cwd: Path
    os: str
    date: str
    git: str | None
    """A summary of ``git status``, or ``None`` outside a repository."""

    @classmethod
    def detect(cls, cwd: Path) -> Environment:
        """Gather the facts for ``cwd`` now."""
        return cls(
            cwd=cwd,
            os=f"{platform.system()} {platform.release()}",
            date=datetime.now(UTC).date().isoformat(),
            git=git_summary(cwd),
        )


def git_summary(cwd: Path, *, max_files: int = 20) -> str | None:
    """Summarise ``git status`` of ``cwd``: branch and changed files (``None`` outside git)."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain=v1", "--branch", "--untracked-files=normal"],  # noqa: S607
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    lines = result.stdout.splitlines()
    branch = lines[0].removeprefix("## ") if lines and lines[0].startswith("## ") else "unknown"
    changes = [line for line in lines if not line.startswith("## ")]
    if not changes:
        return f"branch {branch}, clean"
    shown = "\n".join(f"  {line}" for line in changes[:max_files])
    more = f"\n  … and {len(changes) - max_files} more" if len(changes) > max_files else ""
    return f"branch {branch}, {len(changes)} changed path(s):\n{shown}{more}"


def _repository_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def find_instruction_files(project_dir: Path) -> list[Path]:
    """Return the instruction files that apply to ``project_dir``, outermost first.

    The search goes from the repository root (or only the project directory, outside a
    repository) down to ``project_dir``.
    """
    project_dir = project_dir.resolve()
    root = _repository_root(project_dir) or project_dir
    chain = [project_dir, *project_dir.parents]
    directories = list(reversed(chain[: chain.index(root) + 1]))
    found: list[Path] = []
    for directory in directories:
        found.extend(directory / name for name in INSTRUCTION_FILES if (directory / name).is_file())
    return found


def _instructions(project_dir: Path) -> str:
    parts: list[str] = []
    budget = MAX_INSTRUCTION_CHARS
    for path in find_instruction_files(project_dir):
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if not text or budget <= 0:
            continue
        text = text[:budget]
        budget -= len(text)
        shown = path.relative_to(project_dir) if path.is_relative_to(project_dir) else path
        parts.append(f'<instructions file="{shown}">\n{text}\n</instructions>')
    return "\n\n".join(parts)


def build_system_prompt(
    environment: Environment,
    *,
    skills: Sequence[Skill] = (),
    extra: str | None = None,
) -> str:
    """Assemble the system prompt."""
    sections = [IDENTITY]
    facts = [
        f"- Working directory: {environment.cwd}",
        f"- Operating system: {environment.os}",
        f"- Today's date: {environment.date}",
    ]
    if environment.git is not None:
        facts.append(f"- Git: {environment.git}")
    else:
        facts.append("- Git: not a repository")
    sections.append("# Environment\n" + "\n".join(facts))
    instructions = _instructions(environment.cwd)
    if instructions:
        sections.append(
            "# Project instructions\nFollow these; where two disagree, the later (nearer) one "
            "wins.\n\n" + instructions
        )
    if skills:
        listed = "\n".join(f"- {skill.name}: {skill.description}" for skill in skills)
        sections.append(
            "# Skills\nLoad a skill with the `skill` tool when the task matches its "
            "description; follow its instructions once loaded.\n" + listed
        )
    if extra:
        sections.append(extra)
    return "\n\n".join(sections)
