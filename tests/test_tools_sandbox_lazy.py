"""The bwrap probe runs on the first sandboxed call, not when a core or executor is built."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from arcan_core.config.model import SandboxConfig
from arcan_core.tools.sandbox import BwrapSandbox, default_sandbox

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def fake_bwrap(bin_dir: Path, marker: Path, *, works: bool) -> None:
    """A ``bwrap`` on PATH that records each start in ``marker`` and succeeds or fails."""
    bin_dir.mkdir()
    script = bin_dir / "bwrap"
    status = 0 if works else 1
    script.write_text(
        f"#!/bin/sh\necho started >> '{marker}'\necho 'no user namespaces' >&2\nexit {status}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_default_sandbox_starts_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "starts.log"
    fake_bwrap(tmp_path / "bin", marker, works=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    sandbox = default_sandbox(SandboxConfig())
    assert isinstance(sandbox, BwrapSandbox)
    assert not marker.exists()
    assert sandbox.available
    assert sandbox.available
    # Probed once, on first use.
    assert marker.read_text().splitlines() == ["started"]


def test_a_failing_probe_still_reports_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "starts.log"
    fake_bwrap(tmp_path / "bin", marker, works=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    sandbox = default_sandbox(SandboxConfig())
    assert not marker.exists()
    assert not sandbox.available
    reason = sandbox.unavailable_reason
    assert reason is not None
    assert "no user namespaces" in reason


def test_disabled_sandbox_needs_no_bwrap() -> None:
    sandbox = default_sandbox(SandboxConfig(enabled=False))
    assert not sandbox.available
    assert "turned off" in (sandbox.unavailable_reason or "")
