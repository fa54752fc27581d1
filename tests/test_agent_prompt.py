"""The system prompt (environment, AGENTS.md nearest-wins) and skills."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from arcan_core.agent.prompt import Environment, build_system_prompt, find_instruction_files
from arcan_core.agent.session import open_core
from arcan_core.agent.skills import SkillTool, discover_skills
from arcan_core.errors import ToolInputError
from arcan_core.protocol.events import ToolCallFinished
from arcan_core.protocol.operations import Shutdown, SubmitPrompt
from arcan_core.tools.base import ToolContext
from tests.agent_support import collect_turn, of_type, options

if TYPE_CHECKING:
    from pathlib import Path


def _repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)


def test_instructions_from_root_to_project_nearest_last(tmp_path: Path) -> None:
    _repo(tmp_path)
    (tmp_path / "AGENTS.md").write_text("root rule: use tabs")
    sub = tmp_path / "pkg" / "app"
    sub.mkdir(parents=True)
    (tmp_path / "pkg" / "AGENTS.md").write_text("pkg rule")
    (sub / "AGENTS.md").write_text("app rule: use spaces")
    (sub / "ARCAN.md").write_text("arcan-specific rule")
    found = find_instruction_files(sub)
    assert found == [
        tmp_path / "AGENTS.md",
        tmp_path / "pkg" / "AGENTS.md",
        sub / "AGENTS.md",
        sub / "ARCAN.md",
    ]
    prompt = build_system_prompt(Environment.detect(sub))
    assert prompt.index("root rule") < prompt.index("pkg rule") < prompt.index("app rule")
    assert "nearer" in prompt


def test_outside_a_repository_only_the_project_directory_counts(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("outer")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "AGENTS.md").write_text("inner")
    assert find_instruction_files(inner) == [inner / "AGENTS.md"]
    prompt = build_system_prompt(Environment.detect(inner))
    assert "Git: not a repository" in prompt


def test_environment_facts(tmp_path: Path) -> None:
    _repo(tmp_path)
    (tmp_path / "changed.py").write_text("x = 1\n")
    env = Environment.detect(tmp_path)
    assert env.git is not None
    assert "branch" in env.git
    assert "changed.py" in env.git
    prompt = build_system_prompt(env)
    assert f"Working directory: {tmp_path}" in prompt
    assert f"Today's date: {env.date}" in prompt
    assert "Operating system: " in prompt


def _skill(directory: Path, name: str, description: str, body: str) -> None:
    directory.mkdir(parents=True)
    (directory / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: {description}\n---\n{body}\n"
    )


async def test_skills_are_offered_by_description_and_loaded_on_use(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _skill(tmp_path / ".arcan" / "skills" / "release", "release", "Cut a release", "Step 1: tag")
    _skill(tmp_path / ".agents" / "skills" / "release", "release", "shadowed", "never")
    _skill(home / ".agents" / "skills" / "pdf", "pdf", "Work with PDF files", "Use pdftotext")
    (tmp_path / ".agents" / "skills" / "broken").mkdir(parents=True)
    (tmp_path / ".agents" / "skills" / "broken" / "SKILL.md").write_text("no frontmatter")
    skills = discover_skills(tmp_path, home)
    assert [(s.name, s.description) for s in skills] == [
        ("release", "Cut a release"),
        ("pdf", "Work with PDF files"),
    ]
    prompt = build_system_prompt(Environment.detect(tmp_path), skills=skills)
    assert "- release: Cut a release" in prompt
    assert "Step 1" not in prompt  # bodies load only when used

    tool = SkillTool(skills)
    ctx = ToolContext(workspace=tmp_path, call_id="c", emit=lambda msg: None)
    result = await tool.run(tool.input_model.model_validate({"name": "release"}), ctx)  # type: ignore[arg-type]
    assert "Step 1: tag" in result.content
    with pytest.raises(ToolInputError, match="no skill named"):
        await tool.run(tool.input_model.model_validate({"name": "nope"}), ctx)  # type: ignore[arg-type]

    # Through the core and the real tool registry.
    steps = [
        {"tool_calls": [{"name": "skill", "args": {"name": "pdf"}}]},
        {"text": "loaded"},
    ]
    core = await open_core(options(tmp_path, steps, home=home).replace(tools=None))
    events = core.subscribe()
    core.submit(SubmitPrompt(text="read the pdf"))
    seen = await collect_turn(core, events)
    finished = of_type(seen, ToolCallFinished)[0]
    assert "Use pdftotext" in finished.result
    core.submit(Shutdown())
    await core.wait_closed()


def test_skill_frontmatter_with_a_folded_description(tmp_path: Path) -> None:
    directory = tmp_path / ".arcan" / "skills" / "deploy"
    directory.mkdir(parents=True)
    (directory / "SKILL.md").write_text(
        "---\nname: deploy\ndescription: >\n  Deploy the service\n  to staging.\n"
        "license: MIT\n---\nRun make deploy.\n"
    )
    (skill,) = discover_skills(tmp_path, tmp_path / "home")
    assert skill.description == "Deploy the service to staging."
    assert skill.body() == "Run make deploy."
