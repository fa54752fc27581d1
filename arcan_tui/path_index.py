"""The project's files for ``@path`` completion: a gitignore-aware walk and a fuzzy ranker.

The walk honours every ``.gitignore`` on the way down (each applies below its own directory), skips
``.git`` and stops at ``limit`` files so a huge tree cannot stall completion. It runs in a worker
thread; the ranker is cheap enough to run per keystroke over tens of thousands of paths.

``pathspec`` (about 8 ms to import) loads in ``scan_project``, inside that worker: the chat screen
imports this module before its first frame for ``IMAGE_SUFFIXES`` and ``fuzzy_rank`` alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

__all__ = ["IMAGE_SUFFIXES", "fuzzy_rank", "scan_project"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
"""Files that an ``@path`` attaches as an image instead of naming as text."""

_ALWAYS_SKIPPED = frozenset({".git", ".hg", ".svn"})


def scan_project(root: Path, *, limit: int = 20_000) -> list[str]:
    """Return project-relative POSIX paths of files not ignored by git, up to ``limit``."""
    import pathspec  # noqa: PLC0415 - see the module docstring

    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = Path(directory).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        ignore_file = Path(directory) / ".gitignore"
        if ignore_file.is_file():
            try:
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))

        def ignored(rel: str, *, is_dir: bool) -> bool:
            candidate = rel + "/" if is_dir else rel
            return any(
                candidate.startswith(base) and spec.match_file(candidate[len(base) :])
                for base, spec in specs
            )

        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _ALWAYS_SKIPPED and not ignored(rel_dir + d, is_dir=True)
        )
        for name in sorted(filenames):
            rel = rel_dir + name
            if not ignored(rel, is_dir=False):
                found.append(rel)
                if len(found) >= limit:
                    return found
    return found


def _score(query: str, path: str) -> int | None:
    """Score a subsequence match: higher is better, ``None`` if ``query`` is not a subsequence."""
    lowered = path.lower()
    position = 0
    score = 0
    previous = -2
    for char in query.lower():
        found = lowered.find(char, position)
        if found < 0:
            return None
        # Adjacent characters and matches at a word start are what a person means by "fuzzy".
        if found == previous + 1:
            score += 3
        if found == 0 or lowered[found - 1] in "/_-.":
            score += 2
        score -= min(found - position, 5)
        previous = found
        position = found + 1
    basename_start = lowered.rfind("/") + 1
    if query and lowered.find(query.lower(), basename_start) >= 0:
        score += 10
    return score - len(path) // 20


def fuzzy_rank(query: str, paths: list[str], *, limit: int = 12) -> list[str]:
    """Return up to ``limit`` paths matching ``query`` as a fuzzy subsequence, best first."""
    if not query:
        return paths[:limit]
    scored = [(score, path) for path in paths if (score := _score(query, path)) is not None]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [path for _, path in scored[:limit]]
