"""Unit tests of the TUI's plain modules: history, path index, completion, slash, themes, config."""

from __future__ import annotations

import json
import tomllib
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcan_core.errors import ConfigError
from arcan_core.protocol.events import ToolDisplay
from arcan_tui.completion import PathCompleter
from arcan_tui.history import HistoryNavigator, PromptHistory
from arcan_tui.path_index import fuzzy_rank, scan_project
from arcan_tui.slash import BUILTIN_COMMANDS, SlashCompleter, load_custom_commands, parse_slash
from arcan_tui.theming import ThemeFile, load_themes, shipped_themes_dir
from arcan_tui.transcript_data import (
    AssistantItem,
    NoticeItem,
    ToolItem,
    UserItem,
    summarize_arguments,
    to_markdown,
)
from arcan_tui.user_config import remember_theme
from arcan_tui.widgets.render import render_diff, render_display

if TYPE_CHECKING:
    from pathlib import Path


def test_history_appends_skips_repeats_and_survives_a_torn_line(tmp_path: Path) -> None:
    history = PromptHistory.for_project(tmp_path / "p", root=tmp_path / "h")
    for text in ("one", "one", "  ", "two\nlines"):
        history.append(text)
    assert history.entries == ("one", "two\nlines")
    with history.path.open("a") as handle:
        handle.write('"torn')
    again = PromptHistory(history.path)
    assert again.entries == ("one", "two\nlines")


def test_history_file_is_private_and_scrubbed(tmp_path: Path) -> None:
    old = tmp_path / "h" / "old.jsonl"
    old.parent.mkdir()
    old.write_text('"before"\n')
    old.chmod(0o644)  # an older arcan wrote it world-readable
    history = PromptHistory(old)
    key = "sk-ant-api03-" + "x" * 30
    history.append(f"use the key {key} please")
    assert old.stat().st_mode & 0o777 == 0o600
    text = old.read_text()
    assert key not in text
    assert "[REDACTED]" in text
    assert history.entries[-1] == "use the key [REDACTED] please"
    fresh = PromptHistory.for_project(tmp_path / "p", root=tmp_path / "new")
    fresh.append("hello")
    assert fresh.path.stat().st_mode & 0o777 == 0o600
    assert fresh.path.parent.stat().st_mode & 0o777 == 0o700
    bounded = PromptHistory(tmp_path / "b.jsonl", limit=1)
    for i in range(4):
        bounded.append(f"p{i}")  # the third append rewrites through a temporary file
    assert bounded.path.stat().st_mode & 0o777 == 0o600


def test_history_is_bounded(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / "h.jsonl", limit=5)
    for i in range(30):
        history.append(f"p{i}")
    assert PromptHistory(tmp_path / "h.jsonl", limit=5).entries == tuple(
        f"p{i}" for i in range(25, 30)
    )
    assert len(history.path.read_text().splitlines()) <= 10


@given(st.lists(st.text(min_size=1), max_size=8), st.text())
def test_navigator_walks_back_and_returns_to_the_draft(entries: list[str], draft: str) -> None:
    navigator = HistoryNavigator(tuple(entries))
    seen = []
    current = draft
    while (older := navigator.older(current)) is not None:
        seen.append(older)
        current = older
    assert seen == list(reversed(entries))
    last = None
    while (newer := navigator.newer()) is not None:
        last = newer
    if entries:
        assert last == draft


def test_scan_respects_nested_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x")
    (tmp_path / "a" / "node_modules").mkdir(parents=True)
    (tmp_path / "a" / "node_modules" / "x.js").write_text("x")
    (tmp_path / "a" / "keep.py").write_text("x")
    (tmp_path / "a" / "skip.log").write_text("x")
    (tmp_path / "a" / ".gitignore").write_text("*.log\nnode_modules/\n")
    (tmp_path / "top.log").write_text("x")
    assert sorted(scan_project(tmp_path)) == ["a/.gitignore", "a/keep.py", "top.log"]
    assert len(scan_project(tmp_path, limit=2)) == 2


def test_fuzzy_rank_prefers_basename_and_contiguous_matches() -> None:
    paths = ["src/arcan/parser.py", "docs/paper.md", "tests/test_parser.py", "src/pa/r/s/e.py"]
    ranked = fuzzy_rank("parser", paths)
    assert ranked[0] == "src/arcan/parser.py"
    assert "docs/paper.md" not in ranked
    assert fuzzy_rank("", paths, limit=2) == paths[:2]


def test_path_completer_needs_an_at_word() -> None:
    completer = PathCompleter(["src/app.py", "README.md"])
    completion = completer.complete("see @app", first_line=True)
    assert completion is not None
    assert completion.start == 4
    assert completion.options[0][0] == "@src/app.py"
    assert completer.complete("mail a@app", first_line=True) is None
    assert completer.complete("see @app now", first_line=True) is None


def test_slash_parsing_and_completion(tmp_path: Path) -> None:
    assert parse_slash("/mode ask") == ("mode", "ask")
    assert parse_slash("/quit") == ("quit", "")
    assert parse_slash("//not a command") is None
    assert parse_slash("hello /mode") is None
    completer = SlashCompleter()
    completion = completer.complete("/co", first_line=True)
    assert completion is not None
    assert [value for value, _ in completion.options] == ["/compact", "/cost"]
    assert completer.complete("/co", first_line=False) is None
    assert completer.complete("/mode a", first_line=True) is None
    required = {"help", "clear", "compact", "model", "mode", "harness", "resume", "sessions"}
    assert required | {"theme", "cost", "quit", "export", "init", "mcp"} <= set(BUILTIN_COMMANDS)
    mcp = completer.complete("/mc", first_line=True)
    assert mcp is not None
    assert [value for value, _ in mcp.options] == ["/mcp"]


def test_custom_commands_load_from_markdown(tmp_path: Path) -> None:
    commands_dir = tmp_path / ".arcan" / "commands"
    commands_dir.mkdir(parents=True)
    (commands_dir / "review.md").write_text("# Review a file\n\nReview $ARGUMENTS.")
    (commands_dir / "notes.txt").write_text("ignored")
    commands = load_custom_commands(tmp_path)
    assert list(commands) == ["review"]
    assert commands["review"].help == "Review a file"
    assert SlashCompleter(commands).complete("/rev", first_line=True) is not None


def test_shipped_themes_are_valid_and_distinct() -> None:
    themes, failures = load_themes(shipped_themes_dir())
    assert failures == []
    names = {theme.name for theme in themes}
    assert {"arcan-dark", "arcan-light", "arcan-high-contrast"} <= names
    light = next(t for t in themes if t.name == "arcan-light")
    assert not light.dark
    textual_theme = light.to_textual()
    assert textual_theme.variables["diff-add"] == "#2E7D32"


def test_theme_file_rejects_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text('name = "t"\nprimary = "#000"\nprimery = "#fff"\n')
    (tmp_path / "bad.toml").write_text("name = ")
    themes, failures = load_themes(tmp_path)
    assert themes == []
    assert len(failures) == 2
    assert ThemeFile(name="x", primary="#123456").dark
    with pytest.raises(ValueError, match="dark must be a bool"):
        ThemeFile.from_mapping({"name": "x", "primary": "#000", "dark": "yes"})
    with pytest.raises(ValueError, match="variables must be a table of strings"):
        ThemeFile.from_mapping({"name": "x", "primary": "#000", "variables": {"a": 1}})
    with pytest.raises(ValueError, match="primary must be a non-empty string"):
        ThemeFile.from_mapping({"name": "x"})
    spread = ThemeFile.from_mapping({"name": "x", "primary": "#000", "luminosity_spread": 0.2})
    assert spread.luminosity_spread == 0.2


def test_remember_theme_creates_and_edits_only_that_key(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    remember_theme("arcan-light", path)
    assert tomllib.loads(path.read_text()) == {"ui": {"theme": "arcan-light"}}
    path.write_text('provider = "openai"  # mine\n[ui]\ntheme = "x"\n[harness]\nmax_turns = 3\n')
    remember_theme("arcan-dark", path)
    text = path.read_text()
    assert 'provider = "openai"  # mine' in text
    assert tomllib.loads(text)["ui"]["theme"] == "arcan-dark"
    assert tomllib.loads(text)["harness"]["max_turns"] == 3


def test_remember_theme_refuses_a_config_it_cannot_edit_safely(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("ui.theme = 'x'\n")  # a dotted key: adding [ui] would make it invalid
    with pytest.raises(ConfigError):
        remember_theme("arcan-dark", path)
    assert path.read_text() == "ui.theme = 'x'\n"


def test_render_diff_styles_lines_with_theme_variables() -> None:
    content = render_diff("--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n same")
    assert content.plain.splitlines() == ["--- a", "+++ b", "@@ -1 +1 @@", "-old", "+new", " same"]
    styles = {str(span.style) for span in content.spans}
    assert {"$diff-add", "$diff-remove", "$diff-hunk"} <= styles


def test_render_display_clips_and_picks_by_kind() -> None:
    long = "\n".join(f"line {i}" for i in range(500))
    body = render_display(None, long, is_error=False)
    assert "300 more lines" in body.plain
    shell = render_display(
        ToolDisplay(kind="shell", stdout="ok", stderr="bad", exit_code=1), "", is_error=True
    )
    assert shell.plain == "ok\nbad\nexit code 1"
    listing = render_display(ToolDisplay(kind="listing", items=tuple("abc")), "", is_error=False)
    assert listing.plain == "a\nb\nc"


def test_summaries_and_export() -> None:
    assert summarize_arguments({"command": "ls   -la\n/tmp"}) == "ls -la /tmp"
    assert summarize_arguments({"x": 1, "y": "z"}) == "x=1 y=z"
    assert summarize_arguments({"path": "a" * 200}, width=10) == "a" * 9 + "…"
    tool = ToolItem(name="edit", input={"path": "a.py"}, status="done")
    tool.display = ToolDisplay(kind="diff", diff="+x")
    markdown = to_markdown(
        [UserItem(text="hi\nthere"), AssistantItem(text="**ok**"), tool, NoticeItem(text="n")]
    )
    assert "> hi\n> there" in markdown
    assert "```diff\n+x\n```" in markdown
    assert "*n*" in markdown


def test_tool_item_bounds_live_output() -> None:
    item = ToolItem()
    for _ in range(100):
        item.add_output("x" * 1000)
    assert item.output_chars <= ToolItem.MAX_LIVE_OUTPUT
    parsed = ToolItem(arguments=json.dumps({"path": "p.py"}))
    assert parsed.summary() == "p.py"
