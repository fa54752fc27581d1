"""The watcher's ignore rules follow git's: nested ``.gitignore`` files, negation, ignored dirs.

Each case is checked against ``git check-ignore`` itself on the same tree, so the rules are git's
and not a reading of them.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from arcan_core.harness.watcher import IgnoreRules

if TYPE_CHECKING:
    from pathlib import Path

CASES = [
    "notes.tmp",
    "pkg/cache.tmp",
    "pkg/keep.log",
    "pkg/debug.log",
    "debug.log",
    "pkg/deep/generated.py",
    "pkg/deep/hand.py",
    "build/out.o",
    "build/keep.o",
    "src/main.py",
    "pkg/sub/x.tmp",
]


def _tree(root: Path) -> None:
    (root / ".gitignore").write_text("*.log\nbuild/\n!build/keep.o\n")
    (root / "pkg" / "deep").mkdir(parents=True)
    (root / "pkg" / ".gitignore").write_text("*.tmp\n!keep.log\n")
    (root / "pkg" / "deep" / ".gitignore").write_text("generated.py\n")
    for case in CASES:
        (root / case).parent.mkdir(parents=True, exist_ok=True)
        (root / case).write_text("x\n")


def _git_ignored(root: Path) -> set[str]:
    git = shutil.which("git")
    assert git is not None
    subprocess.run([git, "init", "-q", str(root)], check=True)
    result = subprocess.run(
        [git, "-C", str(root), "check-ignore", "--no-index", *CASES],
        capture_output=True,
        text=True,
        check=False,
    )
    return set(result.stdout.split())


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_nested_gitignore_files_decide_as_git_does(tmp_path: Path) -> None:
    _tree(tmp_path)
    rules = IgnoreRules(tmp_path)
    ours = {case for case in CASES if rules.ignored(case)}
    assert ours == _git_ignored(tmp_path)
    # The cases that make the difference from a root-only reading.
    assert "pkg/cache.tmp" in ours
    assert "pkg/deep/generated.py" in ours
    assert "pkg/keep.log" not in ours  # re-included by the deeper file
    assert "build/keep.o" in ours  # inside an ignored directory: cannot be re-included
    assert "notes.tmp" not in ours


def test_reload_picks_up_a_new_nested_gitignore(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    rules = IgnoreRules(tmp_path)
    assert not rules.ignored("pkg/x.tmp")
    (tmp_path / "pkg" / ".gitignore").write_text("*.tmp\n")
    rules.reload()
    assert rules.ignored("pkg/x.tmp")
