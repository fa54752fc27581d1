"""The file watcher and the live checks it drives.

``ProjectWatcher`` watches the workspace with ``watchfiles.awatch`` (inotify/FSEvents through the
Rust ``notify`` crate), dropping paths the project's ``.gitignore`` files ignore and the
harness's own noise (``.git/``, ``.arcan/``, tool caches such as ``__pycache__/`` and
``.pytest_cache/``, which the checks themselves write and which would otherwise re-trigger them
forever).

``LiveChecks`` marks the checks whose ``watch`` globs match a changed path as stale (a ``stale``
reading), waits ``debounce_s`` of quiet, and runs them; a change that arrives while a check runs
cancels that run (its whole process group) and starts the wait again, because its result would
describe files that no longer exist. Every state change is a ``SensorReading`` through ``emit``.

``ReadTracker`` remembers the content of files the agent read or wrote; when the watcher reports
one changed to something else, the user (or another program) changed it behind the agent's back:
a ``watch:external_edit`` reading says so, and ``notice_before_edit`` gives the agent the notice
before its next edit of that file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import pathspec

from arcan_core.harness.checks import CheckSpec, run_check, sensor_name
from arcan_core.harness.parsers import DEFAULT_PARSERS
from arcan_core.protocol.events import SensorReading

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from arcan_core.harness.parsers import ParserRegistry
    from arcan_core.tools.base import EventSink

__all__ = [
    "ALWAYS_IGNORED",
    "IgnoreRules",
    "LiveChecks",
    "ProjectWatcher",
    "ReadTracker",
]

_log = logging.getLogger(__name__)

ALWAYS_IGNORED: Final = (
    ".git/",
    ".arcan/",
    "__pycache__/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    "node_modules/",
    "*.pyc",
    "*.swp",
    "*~",
    ".#*",
)
"""Ignored in every project: VCS and arcan state, caches the checks write, editor swap files."""


class IgnoreRules:
    """Which paths under ``root`` the watcher ignores: the defaults and every ``.gitignore``.

    Git's rules: a ``.gitignore`` applies to the paths below its directory, a deeper file
    overrides a shallower one (the last matching pattern wins, ``!`` re-includes), and nothing
    inside an ignored directory can be re-included. Nested files are read on first need, not by
    a tree walk at start, and cached; ``reload`` forgets them all (the watcher calls it when any
    ``.gitignore`` changes).
    """

    def __init__(self, root: Path, extra: Iterable[str] = ()) -> None:
        self.root = root.resolve()
        self._extra = tuple(extra)
        self._spec = self._load()
        self._nested: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def _load(self) -> pathspec.GitIgnoreSpec:
        lines = [*ALWAYS_IGNORED, *self._extra]
        with contextlib.suppress(OSError):
            lines.extend((self.root / ".gitignore").read_text(encoding="utf-8").splitlines())
        return pathspec.GitIgnoreSpec.from_lines(lines)

    def _nested_spec(self, directory: str) -> pathspec.GitIgnoreSpec | None:
        """The ``.gitignore`` of ``directory`` (relative, POSIX), or ``None`` when it has none."""
        if directory not in self._nested:
            spec = None
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = (self.root / directory / ".gitignore").read_text(encoding="utf-8")
                spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
            self._nested[directory] = spec
        return self._nested[directory]

    def reload(self) -> None:
        """Read the ``.gitignore`` files again."""
        self._spec = self._load()
        self._nested.clear()

    def relative(self, path: str | Path) -> str | None:
        """``path`` relative to the root in POSIX form, or ``None`` when it is outside."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def ignored(self, relative: str) -> bool:
        """Whether the watcher drops ``relative`` (a POSIX path under the root)."""
        parts = relative.split("/")
        # Each enclosing directory first: what is inside an ignored one stays ignored.
        for end in range(1, len(parts) + 1):
            is_dir = end < len(parts)
            if self._decide(parts[:end], is_dir=is_dir):
                return True
        return False

    def _decide(self, parts: list[str], *, is_dir: bool) -> bool:
        """Git's verdict for one path: the deepest ``.gitignore`` with a matching pattern wins."""
        suffix = "/" if is_dir else ""
        verdict = self._spec.check_file("/".join(parts) + suffix).include
        for depth in range(1, len(parts)):
            spec = self._nested_spec("/".join(parts[:depth]))
            if spec is None:
                continue
            include = spec.check_file("/".join(parts[depth:]) + suffix).include
            if include is not None:
                verdict = include
        return bool(verdict)


class ReadTracker:
    """Remembers the content the agent last saw of each file, to spot changes made by others."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._seen: dict[str, str] = {}
        self._flagged: set[str] = set()

    def _key(self, path: str | Path) -> str:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self._root / candidate
        try:
            return candidate.resolve().relative_to(self._root).as_posix()
        except ValueError:
            return candidate.resolve().as_posix()

    def _digest(self, key: str) -> str | None:
        try:
            return hashlib.blake2b((self._root / key).read_bytes(), digest_size=16).hexdigest()
        except OSError:
            return None

    def record(self, path: str | Path) -> None:
        """The agent read or wrote ``path``: its current content is what the agent knows."""
        key = self._key(path)
        digest = self._digest(key)
        if digest is not None:
            self._seen[key] = digest
        self._flagged.discard(key)

    def changed(self, path: str | Path) -> str | None:
        """The watcher saw ``path`` change: return its key if the agent's view of it is now old."""
        key = self._key(path)
        known = self._seen.get(key)
        if known is None or self._digest(key) == known:
            return None
        self._flagged.add(key)
        return key

    def notice_before_edit(self, path: str | Path) -> str | None:
        """The notice for the agent about to edit ``path``, once per external change."""
        key = self._key(path)
        if key not in self._flagged:
            return None
        self._flagged.discard(key)
        # The agent is told once; its next edit goes ahead with whatever it knows then.
        self._seen.pop(key, None)
        return (
            f"{key} was changed by someone else after you read it. Read it again before "
            "editing it, so your edit does not undo their change."
        )

    @property
    def flagged(self) -> frozenset[str]:
        """Files changed behind the agent's back and not yet noticed."""
        return frozenset(self._flagged)


class LiveChecks:
    """Keeps every check's reading current as files change: stale, debounced, re-run, cancelled."""

    def __init__(
        self,
        specs: Sequence[CheckSpec],
        root: Path,
        emit: EventSink,
        *,
        debounce_s: float = 0.05,
        parsers: ParserRegistry = DEFAULT_PARSERS,
    ) -> None:
        self.root = root
        self.emit = emit
        self.debounce_s = debounce_s
        self._specs = {spec.name: spec for spec in specs}
        self._watch = {
            spec.name: pathspec.GitIgnoreSpec.from_lines(spec.config.watch) for spec in specs
        }
        self._parsers = parsers
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._dying: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.last: dict[str, SensorReading] = {}
        """The latest reading of each check."""

    @property
    def names(self) -> tuple[str, ...]:
        """The checks' names."""
        return tuple(self._specs)

    @property
    def unwatched(self) -> tuple[str, ...]:
        """The checks with no ``watch`` globs.

        No file change marks them, so no reading of them may outlive a task (see
        ``Harness.begin_turn``).
        """
        return tuple(name for name, spec in self._specs.items() if not spec.config.watch)

    def mark_stale(self, names: Iterable[str], *, restart: bool = True) -> None:
        """Mark ``names`` stale: an idle check waits for a verification to run it.

        A scheduled or running one is started over with ``restart`` (its run may predate a
        change), and left to finish without it.
        """
        for name in names:
            if name in self._runs or name in self._timers:
                if restart:
                    self.invalidate(name)
            elif name in self._specs:
                self._mark(name, "stale")

    def matching(self, relative_paths: Iterable[str]) -> set[str]:
        """The checks whose ``watch`` globs match any of ``relative_paths``."""
        paths = list(relative_paths)
        return {name for name, spec in self._watch.items() if any(map(spec.match_file, paths))}

    def _publish(self, reading: SensorReading) -> None:
        self.last[reading.sensor[len("check:") :]] = reading
        self.emit(reading)

    def _mark(self, name: str, status: Literal["stale", "running"]) -> None:
        spec = self._specs[name]
        previous = self.last.get(name)
        if previous is not None and previous.status == status:
            return
        self._publish(
            SensorReading(
                sensor=sensor_name(name),
                setpoint=str(spec.target),
                status=status,
                met=None,
                value=previous.value if previous is not None else "",
            )
        )

    def _update_idle(self) -> None:
        if self._timers or self._runs:
            self._idle.clear()
        else:
            self._idle.set()

    def files_changed(self, relative_paths: Iterable[str]) -> set[str]:
        """Mark the matching checks stale and (re)schedule them; return their names."""
        names = self.matching(relative_paths)
        for name in names:
            self.invalidate(name)
        return names

    def invalidate(self, name: str, *, delay_s: float | None = None) -> None:
        """Make ``name`` stale: cancel a run in progress and run it after the debounce delay."""
        run = self._runs.pop(name, None)
        if run is not None:
            run.cancel()
            # The cancelled run still kills and reaps its process; ``close`` waits for that.
            self._dying.add(run)
            run.add_done_callback(self._dying.discard)
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        self._mark(name, "stale")
        loop = asyncio.get_running_loop()
        delay = self.debounce_s if delay_s is None else delay_s
        self._timers[name] = loop.call_later(delay, self._start, name)
        self._update_idle()

    def _start(self, name: str) -> None:
        self._timers.pop(name, None)
        self._runs[name] = asyncio.get_running_loop().create_task(self._run(name))
        self._update_idle()

    async def _run(self, name: str) -> None:
        self._mark(name, "running")
        try:
            outcome = await run_check(self._specs[name], cwd=self.root, parsers=self._parsers)
        except asyncio.CancelledError:
            raise
        finally:
            if self._runs.get(name) is asyncio.current_task():
                del self._runs[name]
            self._update_idle()
        self._publish(outcome.reading())

    def run_all(self) -> None:
        """Run every check now (at start, so readings are live before the first edit)."""
        for name in self._specs:
            self.invalidate(name, delay_s=0)

    async def verify(self, names: Iterable[str]) -> dict[str, SensorReading]:
        """Run ``names`` now unless already running or scheduled, and wait until all are read."""
        for name in names:
            if name in self._specs and name not in self._runs and name not in self._timers:
                self.invalidate(name, delay_s=0)
        await self.wait_idle()
        return dict(self.last)

    async def wait_idle(self) -> None:
        """Wait until no check is scheduled or running."""
        while not self._idle.is_set():
            await self._idle.wait()
            # A run that finished may have been replaced by a newer one in the same tick.
            await asyncio.sleep(0)
            self._update_idle()

    async def close(self) -> None:
        """Cancel timers and runs (killing their process groups) and wait for them."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        running = list(self._runs.values())
        self._runs.clear()
        for run in running:
            run.cancel()
        # Runs cancelled earlier are still reaping their processes: wait, never cancel twice (a
        # second cancellation would interrupt the reaping and leave the process behind).
        for run in [*running, *self._dying]:
            with contextlib.suppress(asyncio.CancelledError):
                await run
        self._update_idle()


class ProjectWatcher:
    """Watches a workspace and reports changed, non-ignored paths (relative, POSIX)."""

    def __init__(
        self,
        root: Path,
        on_change: Callable[[set[str]], None],
        *,
        ignore: IgnoreRules | None = None,
        step_ms: int = 30,
        debounce_ms: int = 400,
    ) -> None:
        self.root = root.resolve()
        self._on_change = on_change
        self.ignore = ignore or IgnoreRules(self.root)
        self._step_ms = step_ms
        self._debounce_ms = debounce_ms
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once the watch is installed: changes from then on are seen."""

    def _keep(self, change: object, path: str) -> bool:
        del change
        relative = self.ignore.relative(path)
        return relative is not None and relative != "" and not self.ignore.ignored(relative)

    async def run(self) -> None:
        """Watch until ``stop``; call ``on_change`` with each batch of relevant paths."""
        from watchfiles import awatch  # noqa: PLC0415 - a compiled module; only watchers pay for it

        watch = awatch(
            self.root,
            watch_filter=self._keep,
            step=self._step_ms,
            debounce=self._debounce_ms,
            stop_event=self._stop,
            rust_timeout=1000,
            yield_on_timeout=True,
        )
        async for changes in watch:
            self.ready.set()
            paths = {rel for _, path in changes if (rel := self.ignore.relative(path))}
            if any(rel == ".gitignore" or rel.endswith("/.gitignore") for rel in paths):
                self.ignore.reload()
            if paths:
                try:
                    self._on_change(paths)
                except Exception:  # noqa: BLE001 - a listener's bug must not kill the watch
                    _log.exception("file-change listener failed")

    def stop(self) -> None:
        """End ``run`` (within one step)."""
        self._stop.set()
