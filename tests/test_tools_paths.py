"""Paths: relative paths with '..', absolute paths and symlink chains never escape unnoticed."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcan_core.errors import PathEscapeError, ToolInputError
from arcan_core.tools.builtin.read import ReadInput, ReadTool
from arcan_core.tools.builtin.write import WriteInput, WriteTool
from arcan_core.tools.paths import display_path, is_inside, resolve_inside, resolve_path
from arcan_core.tools.policy import ApprovalPolicy

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace with symlinks that point inside, outside, through chains and in a loop."""
    root = tmp_path_factory.mktemp("paths").resolve()
    ws = root / "ws"
    outside = root / "outside"
    (ws / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    (ws / "a" / "file.txt").write_text("f")
    (ws / "in_link").symlink_to(ws / "a" / "b")
    (ws / "out_link").symlink_to(outside)
    (ws / "rel_out").symlink_to("../outside")
    (ws / "chain1").symlink_to("chain2")
    (ws / "chain2").symlink_to("a/../out_link")
    (ws / "a" / "up").symlink_to("..")
    (ws / "loop1").symlink_to("loop2")
    (ws / "loop2").symlink_to("loop1")
    return ws, outside


_SEGMENTS = st.sampled_from(
    [
        "..",
        ".",
        "a",
        "b",
        "file.txt",
        "in_link",
        "out_link",
        "rel_out",
        "chain1",
        "up",
        "loop1",
        "secret.txt",
        "new",
        "~",
    ]
)
_RELATIVE = st.lists(_SEGMENTS, min_size=1, max_size=7).map("/".join)
_ABSOLUTE = st.sampled_from(["/", "/etc/passwd", "/tmp", "~", "~/x"]) | _RELATIVE.map(
    lambda p: "/" + p
)


def _oracle_inside(raw: str, ws: Path) -> bool:
    # An independent oracle on purpose: the os.path functions, not the code under test.
    expanded = os.path.expanduser(raw) if raw.startswith("~") else raw  # noqa: PTH111
    real = os.path.realpath(os.path.join(ws, expanded))  # noqa: PTH118
    return real == str(ws) or real.startswith(str(ws) + os.sep)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(raw=_RELATIVE | _ABSOLUTE)
def test_resolution_never_lets_an_escape_through(layout: tuple[Path, Path], raw: str) -> None:
    ws, _ = layout
    expanded = os.path.expanduser(raw) if raw.startswith("~") else raw  # noqa: PTH111
    once = os.path.realpath(os.path.join(ws, expanded))  # noqa: PTH118
    if os.path.realpath(once) != once:
        # realpath gave up half way on a symlink loop: the kernel refuses such a path (ELOOP),
        # and so must arcan, whatever the rest of the path seems to name.
        with pytest.raises(ToolInputError, match="symlink loop"):
            resolve_inside(raw, ws)
        return
    if not _oracle_inside(raw, ws):
        with pytest.raises(PathEscapeError, match="outside the workspace"):
            resolve_inside(raw, ws)
        return
    resolved = resolve_inside(raw, ws)
    assert is_inside(resolved, (ws,))
    # Fully resolved: following it again changes nothing, so no symlink hides inside.
    assert os.path.realpath(resolved) == str(resolved)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=80)
@given(raw=_RELATIVE | _ABSOLUTE, mode=st.sampled_from(["plan", "ask", "auto-edit", "full-auto"]))
def test_the_policy_asks_for_every_path_that_escapes(
    layout: tuple[Path, Path], raw: str, mode: str
) -> None:
    ws, _ = layout
    policy = ApprovalPolicy(ws, allow=["read", "edit"])
    try:
        inside = is_inside(resolve_path(raw, ws), (ws,))
    except ToolInputError:
        return
    for tool, args in (
        (ReadTool(), ReadInput(path=raw)),
        (WriteTool(), WriteInput(path=raw, content="")),
    ):
        decision = policy.decide(tool, args, mode)  # type: ignore[arg-type]
        if not inside:
            assert decision.action in ("ask", "deny"), (raw, mode)
            assert decision.action == "ask" or mode == "plan"


def test_known_escapes(layout: tuple[Path, Path]) -> None:
    ws, outside = layout
    for raw in (
        "../outside/secret.txt",
        "out_link/secret.txt",
        "rel_out/secret.txt",
        "chain1/secret.txt",
        "a/up/../outside",
        str(outside / "secret.txt"),
        "/etc/passwd",
    ):
        with pytest.raises(PathEscapeError):
            resolve_inside(raw, ws)
    assert resolve_inside("in_link", ws) == ws / "a" / "b"
    assert resolve_inside("a/up/a/file.txt", ws) == ws / "a" / "file.txt"
    assert resolve_inside("out_link/secret.txt", ws, roots=(outside,)) == outside / "secret.txt"
    assert resolve_inside("../outside/secret.txt", ws, allowed=(outside / "secret.txt",)) == (
        outside / "secret.txt"
    )


def test_bad_paths_are_input_errors(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    with pytest.raises(ToolInputError, match="empty"):
        resolve_path("  ", ws)
    with pytest.raises(ToolInputError, match="NUL"):
        resolve_path("a\x00b", ws)


def test_display_paths(layout: tuple[Path, Path]) -> None:
    ws, outside = layout
    assert display_path(ws, ws) == "."
    assert display_path(ws / "a" / "file.txt", ws) == "a/file.txt"
    assert display_path(outside, ws) == str(outside)


def test_a_path_through_a_symlink_loop_cannot_hide_an_escape(layout: tuple[Path, Path]) -> None:
    ws, _ = layout
    # realpath alone returns ws/out_link here, which looks inside but points outside.
    with pytest.raises(ToolInputError, match="symlink loop"):
        resolve_inside("loop1/../out_link", ws)
