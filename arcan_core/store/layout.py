"""Where a project's arcan state lives: ``.arcan/`` at the project root.

    .arcan/
      .gitignore           written once by arcan: ignores sessions/ and checkpoints/
      config.toml          project configuration (may be committed)
      permissions.toml     remembered approvals (may be committed)
      sessions/
        <id>.jsonl         the append-only event log of one session (header first)
        <id>.meta.json     summary sidecar for fast listing (rewritten atomically)
        <id>.lock          held by the one process writing the session
      checkpoints/         file snapshots for undo (private, ignored)

The project's own ``.gitignore`` is never touched: ``.arcan/.gitignore`` keeps private state out
of git while the shareable files stay visible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from arcan_core.errors import StoreError

__all__ = ["ARCAN_DIR", "GITIGNORE_TEXT", "ProjectPaths"]

ARCAN_DIR = ".arcan"

GITIGNORE_TEXT = """\
# Written by arcan. Session logs and checkpoints are private to this machine;
# config.toml and permissions.toml may be committed and shared with the project.
sessions/
checkpoints/
*.tmp
"""


@dataclass(frozen=True)
class ProjectPaths:
    """The paths of one project's arcan state. Nothing is created until ``ensure``."""

    project_dir: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "project_dir", Path(self.project_dir).resolve())

    @property
    def root(self) -> Path:
        """``.arcan/``."""
        return self.project_dir / ARCAN_DIR

    @property
    def config_file(self) -> Path:
        """``.arcan/config.toml``."""
        return self.root / "config.toml"

    @property
    def permissions_file(self) -> Path:
        """``.arcan/permissions.toml``."""
        return self.root / "permissions.toml"

    @property
    def sessions_dir(self) -> Path:
        """``.arcan/sessions/``."""
        return self.root / "sessions"

    @property
    def checkpoints_dir(self) -> Path:
        """``.arcan/checkpoints/``."""
        return self.root / "checkpoints"

    def session_log(self, session_id: str) -> Path:
        """The event log of ``session_id``."""
        return self.sessions_dir / f"{session_id}.jsonl"

    def session_meta(self, session_id: str) -> Path:
        """The summary sidecar of ``session_id``."""
        return self.sessions_dir / f"{session_id}.meta.json"

    def session_lock(self, session_id: str) -> Path:
        """The writer's lock file of ``session_id``."""
        return self.sessions_dir / f"{session_id}.lock"

    def ensure(self) -> Path:
        """Create ``.arcan/`` with its ``.gitignore`` and ``sessions/`` if missing; return root.

        An existing ``.gitignore`` in ``.arcan/`` is left as the user edited it.

        Raises:
            StoreError: the directory cannot be created (read-only project, a file in the way).
        """
        try:
            self.sessions_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.root / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return self.root
            try:
                os.write(fd, GITIGNORE_TEXT.encode())
            finally:
                os.close(fd)
        except OSError as error:
            raise StoreError(
                f"cannot create {self.root}: {error.strerror}",
                hint="check the project directory's permissions",
            ) from error
        return self.root
