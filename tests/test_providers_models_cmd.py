"""``arcan models`` end to end: the CLI asks a loopback server and merges the registry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from arcan_tui.cli import main
from tests.loopback import ThreadedLoopback

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_lists_the_providers_models_with_registry_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-cli-test")
    with ThreadedLoopback(models=("claude-sonnet-4-5-20250929", "claude-new-x")) as server:
        argv = ["models", "--provider", "anthropic", "--base-url", server.url, "-C", str(tmp_path)]
        code = main([*argv, "--model", "claude-new-x"])
        requests = list(server.requests)
    out = capsys.readouterr().out
    assert code == 0
    assert [(r.method, r.path) for r in requests] == [("GET", "/v1/models")]
    assert requests[0].headers["x-api-key"] == "sk-ant-cli-test"
    sonnet = next(line for line in out.splitlines() if "claude-sonnet-4-5-20250929" in line)
    assert sonnet.split()[1:] == ["200k", "64k", "3", "15", "0.3", "3.75"]
    new = next(line for line in out.splitlines() if "claude-new-x" in line)
    assert new.lstrip().startswith("* claude-new-x")  # the configured model is marked
    assert new.split()[-4:] == ["-", "-", "-", "-"]  # unknown to the registry: no price


def test_json_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o-cli")
    with ThreadedLoopback(models=("gpt-5", "gpt-4.1")) as server:
        argv = ["models", "--provider", "openai", "--base-url", server.openai_base_url]
        code = main([*argv, "-C", str(tmp_path), "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert [item["id"] for item in payload] == ["gpt-5", "gpt-4.1"]
    assert payload[0]["context_window"] == 400_000
    assert payload[0]["priced"] is True


def test_offline_shows_the_registry_without_a_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["models", "--provider", "openai-chat", "--offline", "-C", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "gpt-4.1" in out
    assert "claude" not in out


def test_missing_key_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadedLoopback() as server:
        argv = ["models", "--provider", "anthropic", "--base-url", server.url, "-C", str(tmp_path)]
        code = main(argv)
        assert server.requests == []
    assert code == 1
    err = capsys.readouterr().err
    assert "ANTHROPIC_API_KEY" in err
    assert "arcan models --offline" in err
