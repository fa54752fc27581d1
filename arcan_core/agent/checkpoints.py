"""Checkpoints: snapshots of the working tree in a shadow git store under ``.arcan/checkpoints/``.

Every prompt takes a snapshot before the task runs and another when it ends, so a checkpoint
covers every change the task made, shell side effects included. The store is a separate git
directory driven with ``GIT_DIR`` and ``GIT_WORK_TREE``: the user's own repository (its index, its
refs, its objects) is never touched. Untracked files are included; ignored files are not (git reads
the project's ``.gitignore`` files through the work tree).

Snapshots are git trees named by refs ``refs/arcan/<session>/<nnnnnn>-<turn>/{before,after}``,
so they outlive the process and a resumed session can still undo. A task that ran no tool has no
``after`` snapshot (nothing of the agent's can have changed), and undo passes over it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arcan_core.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["Checkpoints", "RestoreResult"]

_EXCLUDES = ".arcan/\n.git\n"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "arcan",
    "GIT_AUTHOR_EMAIL": "arcan@localhost",
    "GIT_COMMITTER_NAME": "arcan",
    "GIT_COMMITTER_EMAIL": "arcan@localhost",
}


@dataclass(frozen=True)
class RestoreResult:
    """What an undo or rewind did."""

    restored: tuple[str, ...]
    refused: tuple[str, ...]
    checkpoint: str


class Checkpoints:
    """The shadow store of one session's snapshots."""

    def __init__(self, workspace: Path, store_dir: Path, session_id: str) -> None:
        self.workspace = workspace
        self.git_dir = store_dir / "git"
        self.session_id = session_id
        self._ready = False
        self._turns: list[str] | None = None
        """The turn ref prefixes of this session, oldest first (loaded once, then kept)."""
        self._env = {
            **os.environ,
            **_IDENTITY,
            "GIT_DIR": str(self.git_dir),
            "GIT_WORK_TREE": str(workspace),
            "GIT_INDEX_FILE": str(self.git_dir / f"index-{session_id}"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }
        self._env.pop("GIT_OBJECT_DIRECTORY", None)
        self._env.pop("GIT_ALTERNATE_OBJECT_DIRECTORIES", None)

    async def _git(self, *args: str, check: bool = True) -> str:
        try:
            process = await asyncio.create_subprocess_exec(
                "git",
                *args,
                cwd=self.workspace,
                env=self._env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as error:
            raise StoreError(
                f"checkpoints need git: {error.strerror}",
                hint="install git, or run with --no-checkpoints",
            ) from error
        out, err = await process.communicate()
        if check and process.returncode != 0:
            raise StoreError(
                f"checkpoint store: git {args[0]} failed: {err.decode(errors='replace').strip()}",
                hint="checkpoints live in .arcan/checkpoints; delete it to start afresh",
            )
        return out.decode(errors="surrogateescape")

    async def _ensure(self) -> None:
        if self._ready:
            return
        if not (self.git_dir / "HEAD").exists():
            self.git_dir.parent.mkdir(parents=True, exist_ok=True)
            # The store is private to this machine: keep it out of the user's `git status`
            # even where `.arcan/.gitignore` was not written.
            (self.git_dir.parent / ".gitignore").write_text("*\n", encoding="utf-8")
            await self._git("init", "-q")
            # Written directly: two `git config` processes would cost more than the snapshot.
            with (self.git_dir / "config").open("a", encoding="utf-8") as config:
                config.write("[core]\n\tautocrlf = false\n[gc]\n\tauto = 0\n")
        info = self.git_dir / "info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "exclude").write_text(_EXCLUDES, encoding="utf-8")
        self._ready = True

    async def snapshot(self) -> str:
        """Record the working tree now; return the tree id.

        Refs name trees directly (no commit objects): a snapshot is two git processes.
        """
        await self._ensure()
        await self._git("add", "-A", "--ignore-errors", ".", check=False)
        return (await self._git("write-tree")).strip()

    async def _turn_refs(self) -> list[str]:
        """Return the turn ref prefixes of this session, oldest first."""
        if self._turns is None:
            await self._ensure()
            out = await self._git(
                "for-each-ref", "--format=%(refname)", f"refs/arcan/{self.session_id}/"
            )
            self._turns = sorted({line.rsplit("/", 1)[0] for line in out.splitlines() if line})
        return self._turns

    async def _drop(self, prefix: str) -> None:
        await self._git("update-ref", "-d", f"{prefix}/after", check=False)
        await self._git("update-ref", "-d", f"{prefix}/before", check=False)
        turns = await self._turn_refs()
        if prefix in turns:
            turns.remove(prefix)

    async def _ref(self, name: str) -> str | None:
        out = await self._git("rev-parse", "--verify", "-q", name, check=False)
        return out.strip() or None

    async def snapshot_before(self, turn_id: str) -> str:
        """Snapshot at a prompt, before the task changes anything."""
        tree = await self.snapshot()
        turns = await self._turn_refs()
        number = int(turns[-1].rsplit("/", 1)[-1].split("-", 1)[0]) + 1 if turns else 0
        prefix = f"refs/arcan/{self.session_id}/{number:06d}-{turn_id}"
        await self._git("update-ref", f"{prefix}/before", tree)
        turns.append(prefix)
        return tree

    async def snapshot_after(self, turn_id: str) -> str | None:
        """Snapshot when the task ends."""
        for prefix in reversed(await self._turn_refs()):
            if prefix.endswith(f"-{turn_id}"):
                commit = await self.snapshot()
                await self._git("update-ref", f"{prefix}/after", commit)
                return commit
        return None

    async def _changed(self, old: str, new: str) -> list[str]:
        out = await self._git("diff-tree", "-r", "-z", "--no-renames", "--name-only", old, new)
        return [path for path in out.split("\0") if path]

    async def _blob(self, commit: str, path: str) -> str | None:
        return await self._ref(f"{commit}:{path}")

    async def _restore(self, target: str, reference: str, paths: list[str]) -> RestoreResult:
        """Restore ``paths`` to ``target`` where they still match ``reference`` (the task's end)."""
        current = await self.snapshot()
        restored: list[str] = []
        refused: list[str] = []
        for path in paths:
            if await self._blob(reference, path) != await self._blob(current, path):
                refused.append(path)
                continue
            if await self._blob(target, path) is None:
                (self.workspace / path).unlink(missing_ok=True)
            else:
                await self._git("checkout", target, "--", path)
            restored.append(path)
        return RestoreResult(tuple(restored), tuple(refused), target)

    async def undo(self) -> RestoreResult | None:
        """Restore the files the last task changed, refusing those changed since it ended.

        Returns ``None`` when there is no finished task to undo.
        """
        for prefix in reversed(list(await self._turn_refs())):
            before = await self._ref(f"{prefix}/before")
            after = await self._ref(f"{prefix}/after")
            if before is None or after is None:
                continue
            result = await self._restore(before, after, await self._changed(before, after))
            if result.refused and not result.restored:
                # Nothing was undone: keep the task, so the user can sort out the files and
                # try again.
                return result
            # An undone task is spent: the next undo goes one task further back.
            await self._drop(prefix)
            return result
        return None

    async def rewind_files(self, turn_id: str) -> RestoreResult | None:
        """Restore the files changed since the prompt of ``turn_id``, except human edits."""
        prefixes = list(await self._turn_refs())
        target_prefix = next((p for p in prefixes if p.endswith(f"-{turn_id}")), None)
        if target_prefix is None:
            return None
        before = await self._ref(f"{target_prefix}/before")
        latest = None
        for prefix in reversed(prefixes):
            latest = await self._ref(f"{prefix}/after")
            if latest is not None:
                break
        if before is None or latest is None:
            return None
        result = await self._restore(before, latest, await self._changed(before, latest))
        # Tasks after the rewind point are gone from the session's history.
        for prefix in list(prefixes[prefixes.index(target_prefix) :]):
            await self._drop(prefix)
        return result

    async def adopt(self, source_session: str, turn_ids: Sequence[str]) -> int:
        """Share ``source_session``'s checkpoints of ``turn_ids`` with this (forked) session.

        Returns how many snapshots were adopted.
        """
        await self._ensure()
        wanted = set(turn_ids)
        out = await self._git(
            "for-each-ref", "--format=%(refname) %(objectname)", f"refs/arcan/{source_session}/"
        )
        adopted = 0
        for line in out.splitlines():
            name, _, commit = line.partition(" ")
            turn_part = name.split("/")[-2]  # "<nnnnnn>-<turn>"
            if turn_part.split("-", 1)[-1] in wanted:
                suffix = name.removeprefix(f"refs/arcan/{source_session}/")
                await self._git("update-ref", f"refs/arcan/{self.session_id}/{suffix}", commit)
                adopted += 1
        self._turns = None  # reload with the adopted turns
        return adopted
