"""The OS sandbox the shell tool runs under in ``auto-edit`` and ``full-auto``.

On Linux that is bubblewrap (``bwrap``): the whole file system is mounted read-only, the
workspace, the directories the user added and a private ``/tmp`` are writable, ``.git/hooks`` and
``.arcan/`` stay read-only inside the workspace (a hook or a permission file written by a command
would run or apply later, outside the sandbox), and the network is cut off unless the config
allows it. Whether ``bwrap`` can start here is probed once per process, on the first sandboxed
call (not when the core opens); where it cannot, the policy asks for every shell call and says
why (``Sandbox.unavailable_reason``).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from arcan_core.config.model import SandboxConfig

__all__ = [
    "BwrapSandbox",
    "NoSandbox",
    "Sandbox",
    "default_sandbox",
    "probe_bwrap",
    "sandbox_denial",
]

_PROTECTED = (".git/hooks", ".arcan")
_DENIAL_SIGNS = (
    (re.compile(r"read-only file system", re.IGNORECASE), "a write outside the workspace"),
    (re.compile(r"network is unreachable", re.IGNORECASE), "network access"),
    (
        re.compile(
            r"could not resolve host|temporary failure in name resolution"
            r"|name or service not known|failed to resolve|getaddrinfo failed",
            re.IGNORECASE,
        ),
        "network access (no DNS)",
    ),
)


class Sandbox(ABC):
    """A way to run a command with the file system and network fenced in."""

    network: bool = False

    @property
    @abstractmethod
    def available(self) -> bool:
        """Whether commands can run under this sandbox on this machine."""

    @property
    def unavailable_reason(self) -> str | None:
        """Why the sandbox cannot run here, or ``None`` when it can."""
        return None

    @abstractmethod
    def wrap(
        self, argv: list[str], *, workspace: Path, writable: tuple[Path, ...] = ()
    ) -> list[str]:
        """Return the argv that runs ``argv`` inside the sandbox."""


class NoSandbox(Sandbox):
    """No sandbox: disabled in the config, or none can start here."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    @property
    def available(self) -> bool:
        """Never available."""
        return False

    @property
    def unavailable_reason(self) -> str:
        """Why there is no sandbox."""
        return self._reason

    def wrap(
        self, argv: list[str], *, workspace: Path, writable: tuple[Path, ...] = ()
    ) -> list[str]:
        """Return ``argv`` unchanged (callers check ``available`` first)."""
        del workspace, writable
        return argv


class BwrapSandbox(Sandbox):
    """bubblewrap: read-only root, writable workspace and ``/tmp``, optional network."""

    def __init__(self, executable: str, *, network: bool = False) -> None:
        self.executable = executable
        self.network = network

    @property
    def available(self) -> bool:
        """Whether the probe could start a sandbox."""
        return probe_bwrap(self.executable) is None

    @property
    def unavailable_reason(self) -> str | None:
        """The probe's error, if it failed."""
        return probe_bwrap(self.executable)

    def wrap(
        self, argv: list[str], *, workspace: Path, writable: tuple[Path, ...] = ()
    ) -> list[str]:
        """Return the ``bwrap`` argv that runs ``argv`` in ``workspace``."""
        out = [
            self.executable,
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            # A private /tmp: tools that insist on /tmp work, and nothing written there leaks.
            "--tmpfs",
            "/tmp",  # noqa: S108 - the sandbox's own, private /tmp
        ]
        if not self.network:
            out.append("--unshare-net")
        for root in (workspace, *writable):
            # bwrap refuses to start on a missing source; an added root may not exist yet.
            if root.is_dir():
                out += ["--bind", str(root), str(root)]
        for relative in _PROTECTED:
            protected = workspace / relative
            if protected.exists():
                out += ["--ro-bind", str(protected), str(protected)]
        out += ["--chdir", str(workspace), "--", *argv]
        return out


@functools.cache
def probe_bwrap(executable: str) -> str | None:
    """Try to start ``bwrap`` once; return ``None`` when it works, else the reason it does not."""
    argv = [executable, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--", "true"]
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv
            argv, capture_output=True, text=True, timeout=10, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not start: {error}"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        return f"bwrap could not start a sandbox here: {detail}"
    return None


def default_sandbox(config: SandboxConfig | None = None) -> Sandbox:
    """Return the best sandbox for this machine under ``config``."""
    if config is not None and not config.enabled:
        return NoSandbox("the sandbox is turned off in the config (sandbox.enabled = false)")
    executable = shutil.which("bwrap")
    if executable is None:
        return NoSandbox("bubblewrap (bwrap) is not installed; install the bubblewrap package")
    # Not probed here: starting bwrap costs a process at every core open, and a session in
    # ``ask`` or ``plan`` mode may never sandbox a command. ``available`` probes on first use.
    return BwrapSandbox(executable, network=bool(config and config.network))


def sandbox_denial(output: str, exit_code: int) -> str | None:
    """Return what the sandbox probably denied, judging by a failed command's output."""
    if exit_code == 0:
        return None
    for pattern, what in _DENIAL_SIGNS:
        if pattern.search(output):
            return what
    return None
