"""The tool system's speed targets: validation, dispatch overhead, grep on a 10,000-file tree.

Run: ``.venv/bin/python -m pytest benches/bench_tools.py --benchmark-enable``

Targets: validating one call's arguments under 50 µs; the executor's own overhead per call (tool
work excluded: a tool that returns at once) under 0.5 ms; grep over 10,000 files reported with
ripgrep and with the pure-Python fallback.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from arcan_core.protocol.operations import AnswerApproval
from arcan_core.tools.base import Tool, ToolCallRequest, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.builtin.search import GrepInput, GrepTool, find_rg
from arcan_core.tools.executor import ToolExecutor
from arcan_core.tools.policy import ApprovalPolicy
from arcan_core.tools.registry import ToolRegistry, default_registry
from arcan_core.tools.sandbox import NoSandbox

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.protocol.events import ApprovalRequest, EventMsg

FILES = 10_000


def _drop(msg: EventMsg, /) -> None:
    del msg


async def _never(
    call_id: str, name: str, args: dict[str, Any], request: ApprovalRequest
) -> AnswerApproval:
    del name, args, request
    return AnswerApproval(call_id=call_id, decision="deny")


def test_validation_per_call(benchmark: Any) -> None:
    registry = default_registry()
    validator = registry.validator("edit")
    arguments = json.dumps(
        {"path": "src/app/module.py", "old": "return 1\n", "new": "return 2\n", "replace_all": None}
    )
    raw, model = benchmark(validator.parse, arguments)
    assert raw["path"] == "src/app/module.py"
    assert model is not None


def test_validation_of_a_nested_patch(benchmark: Any) -> None:
    validator = default_registry().validator("patch")
    arguments = json.dumps(
        {
            "changes": [
                {"path": f"f{i}.py", "action": "update", "hunks": [{"old": "a", "new": "b"}] * 3}
                for i in range(3)
            ]
        }
    )
    benchmark(validator.parse, arguments)


class _NoopInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str


class _Noop(Tool[_NoopInput]):
    name: ClassVar[str] = "noop"
    description: ClassVar[str] = "returns at once"
    input_model: ClassVar[type[BaseModel]] = _NoopInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "read"

    def touched_paths(self, args: _NoopInput, ctx: ToolContext) -> tuple[Path, ...]:
        return (ctx.resolve_unchecked(args.path),)

    async def run(self, args: _NoopInput, ctx: ToolContext) -> ToolResult:
        return ToolResult(content=args.path)


@pytest.mark.parametrize("batch", [1, 10])
def test_dispatch_overhead_per_call(benchmark: Any, tmp_path: Path, batch: int) -> None:
    executor = ToolExecutor(
        ToolRegistry([_Noop]),
        workspace=tmp_path,
        policy=ApprovalPolicy(tmp_path),
        mode="ask",
        env={"PATH": os.environ["PATH"]},
        sandbox=NoSandbox("benchmark"),
    )
    calls = [
        ToolCallRequest(call_id=f"c{i}", name="noop", arguments=f'{{"path": "f{i}.py"}}')
        for i in range(batch)
    ]
    loop = asyncio.new_event_loop()
    try:
        out = benchmark(
            lambda: loop.run_until_complete(executor.run_batch(calls, emit=_drop, ask=_never))
        )
    finally:
        loop.close()
    assert [o.content for o in out] == [f"f{i}.py" for i in range(batch)]
    benchmark.extra_info["calls_per_batch"] = batch


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree").resolve()
    (root / ".gitignore").write_text("ignored/\n")
    body = "".join(f"def function_{j}(x):\n    return x + {j}\n" for j in range(10))
    for i in range(FILES):
        directory = root / f"pkg{i // 100:03}"
        directory.mkdir(exist_ok=True)
        extra = "    needle_marker = True\n" if i % 97 == 0 else ""
        (directory / f"mod{i:05}.py").write_text(body + extra)
    return root


@pytest.mark.parametrize("engine", ["ripgrep", "python"])
def test_grep_10k_files(benchmark: Any, tree: Path, engine: str) -> None:
    rg = find_rg() if engine == "ripgrep" else None
    if engine == "ripgrep" and rg is None:
        pytest.skip("no rg found")
    tool = GrepTool(rg=rg)
    ctx = ToolContext(workspace=tree, call_id="g", emit=_drop)
    args = GrepInput(pattern=r"needle_marker = \w+")
    loop = asyncio.new_event_loop()
    try:
        result = benchmark.pedantic(
            lambda: loop.run_until_complete(tool.run(args, ctx)), rounds=3, iterations=1
        )
    finally:
        loop.close()
    assert result.content.count("needle_marker") == len(range(0, FILES, 97))
