"""Check sensors and hooks: real subprocesses, group-killing timeouts, capped output."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING

import pytest

from arcan_core.config.model import CheckConfig, HookConfig
from arcan_core.errors import HarnessError
from arcan_core.harness.checks import CheckSpec, run_check, run_command
from arcan_core.harness.hooks import HookRunner

if TYPE_CHECKING:
    from pathlib import Path

PY = sys.executable


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The command starts a grandchild that would outlive a plain kill of the child.
    script = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "open('grandchild.pid', 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    result = await run_command([PY, "-c", script], cwd=tmp_path, timeout_s=2.0)
    assert result.timed_out
    assert result.exit_code is None
    assert "started" in result.output
    assert time.monotonic() - started < 10
    pid = int((tmp_path / "grandchild.pid").read_text())
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the grandchild survived the timeout")


async def test_output_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    script = "print('HEAD'); print('x' * 200_000); print('TAIL')"
    result = await run_command(
        [PY, "-c", script], cwd=tmp_path, timeout_s=30, max_output_bytes=4096
    )
    assert result.truncated
    assert result.output.startswith("HEAD")
    assert result.output.rstrip().endswith("TAIL")
    assert len(result.output) < 4200


async def test_missing_program_is_a_harness_error_and_an_unmet_reading(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="cannot run"):
        await run_command(["no-such-tool-xyz"], cwd=tmp_path, timeout_s=5)
    spec = CheckSpec.from_config("lint", CheckConfig(command="no-such-tool-xyz ."))
    reading = (await run_check(spec, cwd=tmp_path)).reading()
    assert reading.status == "unmet"
    assert "cannot run" in reading.detail


async def test_check_reading_against_a_count_target(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("def test_a():\n    assert 1 == 2\n")
    command = f"{PY} -m pytest -q -p no:cacheprovider"
    spec = CheckSpec.from_config("tests", CheckConfig(command=command, target="failures == 0"))
    reading = (await run_check(spec, cwd=tmp_path)).reading()
    assert reading.sensor == "check:tests"
    assert reading.setpoint == "failures == 0"
    assert (reading.status, reading.met) == ("unmet", False)
    assert reading.counts["failures"] == 1
    assert "test_a.py::test_a" in reading.detail
    assert reading.value.startswith("exit 1 · 1 failures")


async def test_before_tool_hook_blocks_with_its_reason(tmp_path: Path) -> None:
    guard = (
        "import json, sys\n"
        "event = json.load(sys.stdin)\n"
        "if 'secret' in event['input'].get('path', ''):\n"
        "    print('secrets are off limits'); sys.exit(2)\n"
    )
    (tmp_path / "guard.py").write_text(guard)
    hooks = HookRunner(
        [HookConfig(event="before_tool", command=f"{PY} guard.py", tools=("read",))], tmp_path
    )
    blocked = await hooks.run("before_tool", {"input": {"path": "secret.txt"}}, tool="read")
    assert [h.ok for h in blocked] == [False]
    assert blocked[0].reason == "secrets are off limits"
    reading = blocked[0].reading()
    assert (reading.sensor, reading.met) == ("hook:before_tool:0", False)
    allowed = await hooks.run("before_tool", {"input": {"path": "a.py"}}, tool="read")
    assert [h.ok for h in allowed] == [True]
    assert await hooks.run("before_tool", {"input": {}}, tool="bash") == []
