"""Configuration layering and every kind of configuration error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from arcan_core.config import ConfigBuilder, load_config
from arcan_core.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated ``$XDG_CONFIG_HOME/arcan``."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    directory = tmp_path / "xdg" / "arcan"
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "project" / ".arcan").mkdir(parents=True)
    return tmp_path / "project"


def write_user(user_dir: Path, text: str) -> Path:
    path = user_dir / "config.toml"
    path.write_text(text)
    return path


def write_project(project: Path, text: str) -> Path:
    path = project / ".arcan" / "config.toml"
    path.write_text(text)
    return path


def test_defaults_alone(user_dir: Path, project: Path) -> None:
    resolved = load_config(project, env={})
    assert resolved.config.mode == "ask"
    assert resolved.config.provider is None
    assert resolved.sources["mode"] == "default"
    assert resolved.source_of("harness.max_turns") == "default"


def test_each_layer_overrides_the_one_below(user_dir: Path, project: Path) -> None:
    user = write_user(
        user_dir,
        'provider = "anthropic"\nmodel = "user-model"\nmode = "plan"\n'
        'base_url = "http://user"\n[harness]\nmax_turns = 5\nmax_repeats = 9\n',
    )
    proj = write_project(
        project, 'model = "project-model"\nmode = "auto-edit"\n[harness]\nmax_turns = 7\n'
    )
    resolved = load_config(
        project,
        env={"ARCAN_MODE": "full-auto", "ARCAN_BASE_URL": "http://env"},
        flags={"base_url": "http://flag", "model": None},
    )
    config = resolved.config
    assert (config.provider, resolved.sources["provider"]) == ("anthropic", str(user))
    assert (config.model, resolved.sources["model"]) == ("project-model", str(proj))
    assert (config.mode, resolved.sources["mode"]) == ("full-auto", "environment (ARCAN_MODE)")
    assert (config.base_url, resolved.sources["base_url"]) == ("http://flag", "command line")
    # Tables merge key by key: the project's max_turns, the user's max_repeats.
    assert config.harness.max_turns == 7
    assert resolved.sources["harness.max_turns"] == str(proj)
    assert config.harness.max_repeats == 9
    assert resolved.sources["harness.max_repeats"] == str(user)
    assert resolved.sources["harness.max_cost_usd"] == "default"


def test_arrays_are_replaced_not_appended(user_dir: Path, project: Path) -> None:
    write_user(user_dir, '[permissions]\nallow = ["bash(ls*)", "read(**)"]\n')
    write_project(project, '[permissions]\nallow = ["edit(src/**)"]\n')
    assert load_config(project, env={}).config.permissions.allow == ("edit(src/**)",)


def test_nested_tables_record_the_source_of_each_leaf(user_dir: Path, project: Path) -> None:
    proj = write_project(project, '[harness.checks.tests]\ncommand = "pytest -q"\n')
    resolved = load_config(project, env={})
    assert resolved.config.harness.checks["tests"].command == "pytest -q"
    assert resolved.sources["harness.checks.tests.command"] == str(proj)
    assert "harness.checks" not in resolved.sources


def test_arcan_environment_variables(user_dir: Path, project: Path) -> None:
    env = {
        "ARCAN_PROVIDER": "openai",
        "ARCAN_MODEL": "gpt-x",
        "ARCAN_MODE": "plan",
        "ARCAN_BASE_URL": "",  # empty means unset
    }
    resolved = load_config(project, env=env)
    assert (resolved.config.provider, resolved.config.model, resolved.config.mode) == (
        "openai",
        "gpt-x",
        "plan",
    )
    assert resolved.sources["model"] == "environment (ARCAN_MODEL)"
    assert resolved.sources["base_url"] == "default"


def test_env_none_reads_the_process_environment(
    user_dir: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCAN_MODEL", "from-process")
    assert load_config(project).config.model == "from-process"


def test_vendor_base_url_applies_only_to_its_provider(user_dir: Path, project: Path) -> None:
    env = {"ANTHROPIC_BASE_URL": "http://anthropic-proxy", "OPENAI_BASE_URL": "http://oai"}
    anthropic = load_config(project, env=env, flags={"provider": "anthropic"})
    assert anthropic.config.base_url == "http://anthropic-proxy"
    assert anthropic.sources["base_url"] == "environment (ANTHROPIC_BASE_URL)"
    assert load_config(project, env=env, flags={"provider": "openai"}).config.base_url == (
        "http://oai"
    )
    assert load_config(project, env=env, flags={"provider": "local"}).config.base_url is None
    assert load_config(project, env=env).config.base_url is None  # no provider chosen


def test_arcan_base_url_and_the_flag_beat_the_vendor_variable(
    user_dir: Path, project: Path
) -> None:
    env = {"ANTHROPIC_BASE_URL": "http://vendor", "ARCAN_BASE_URL": "http://arcan"}
    flags = {"provider": "anthropic"}
    assert load_config(project, env=env, flags=flags).config.base_url == "http://arcan"
    both = {**flags, "base_url": "http://flag"}
    assert load_config(project, env=env, flags=both).config.base_url == "http://flag"


def test_the_vendor_variable_beats_the_files(user_dir: Path, project: Path) -> None:
    write_project(project, 'provider = "anthropic"\nbase_url = "http://file"\n')
    env = {"ANTHROPIC_BASE_URL": "http://vendor"}
    assert load_config(project, env=env).config.base_url == "http://vendor"


def test_the_builder_composes_explicit_layers(tmp_path: Path) -> None:
    first = tmp_path / "a.toml"
    first.write_text('model = "a"\n[ui]\ntheme = "x"\n')
    second = tmp_path / "b.toml"
    second.write_text('model = "b"\n')
    resolved = ConfigBuilder().with_file(first).with_file(second).build()
    assert (resolved.config.model, resolved.config.ui.theme) == ("b", "x")
    assert ConfigBuilder().with_file(tmp_path / "missing.toml").build().config.model is None


# One test per kind of error: each names the file (or layer), the key, and what was expected.


def test_toml_syntax_error_names_the_file_and_line(user_dir: Path, project: Path) -> None:
    path = write_project(project, 'model = "m"\n[harness\n')
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    assert str(path) in caught.value.message
    assert "line 2" in caught.value.message
    assert caught.value.exit_code == 2


def test_unknown_key_is_reported_with_a_suggestion(user_dir: Path, project: Path) -> None:
    path = write_user(user_dir, "[harness]\nmax_turnz = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    assert caught.value.source == str(path)
    assert caught.value.key == "harness.max_turnz"
    assert "unknown key" in caught.value.message
    assert caught.value.hint == "did you mean 'max_turns'?"


def test_unknown_top_level_key_lists_nothing_close(user_dir: Path, project: Path) -> None:
    write_project(project, "zzz = 1\n")
    with pytest.raises(ConfigError, match=r"zzz: unknown key") as caught:
        load_config(project, env={})
    assert caught.value.hint is not None
    assert "known keys" in caught.value.hint


def test_wrong_type_says_what_was_expected(user_dir: Path, project: Path) -> None:
    path = write_project(project, '[harness]\nmax_turns = "many"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    assert caught.value.source == str(path)
    assert caught.value.key == "harness.max_turns"
    assert "valid integer" in caught.value.message
    assert "'many'" in caught.value.message


@pytest.mark.parametrize(
    ("text", "key", "wanted"),
    [
        ('[permissions]\nallow = "bash(ls)"\n', "permissions.allow", "must be an array"),
        ("harness = 3\n", "harness", "must be a table"),
        ('[harness.checks]\ntests = "pytest"\n', "harness.checks.tests", "must be a table"),
        ("mcp_servers = []\n", "mcp_servers", "must be a table"),
    ],
)
def test_a_wrong_shape_is_said_in_toml_words(
    user_dir: Path, project: Path, text: str, key: str, wanted: str
) -> None:
    write_project(project, text)
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    assert caught.value.key == key
    assert wanted in caught.value.message
    for python_word in ("tuple", "dictionary", "instance of", "Config"):
        assert python_word not in caught.value.message
    assert caught.value.hint is not None


def test_out_of_range_value(user_dir: Path, project: Path) -> None:
    write_project(project, "[harness]\nmax_turns = 0\n")
    with pytest.raises(ConfigError, match=r"harness\.max_turns: .*greater than or equal to 1"):
        load_config(project, env={})


def test_missing_required_key_names_the_table_s_file(user_dir: Path, project: Path) -> None:
    path = write_project(project, '[harness.checks.tests]\ntarget = "exit0"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    assert caught.value.source == str(path)
    assert caught.value.key == "harness.checks.tests.command"
    assert "missing" in caught.value.message


def test_bad_environment_value_names_the_variable(user_dir: Path, project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={"ARCAN_MODE": "yolo"})
    assert caught.value.source == "environment (ARCAN_MODE)"
    assert "'plan', 'ask', 'auto-edit' or 'full-auto'" in caught.value.message


def test_bad_flag_value_names_the_command_line(user_dir: Path, project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={}, flags={"harness.max_turns": "x"})
    assert caught.value.source == "command line"


def test_a_key_in_the_project_config_is_refused(user_dir: Path, project: Path) -> None:
    path = write_project(project, '[mcp_servers.gh.env]\nGITHUB_TOKEN = "ghp_x"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    assert caught.value.source == str(path)
    assert caught.value.key == "mcp_servers.gh.env.GITHUB_TOKEN"
    assert caught.value.hint is not None
    assert "keys.toml" in caught.value.hint
    assert "ghp_x" not in caught.value.message


def test_a_token_taken_from_the_environment_is_fine(user_dir: Path, project: Path) -> None:
    write_project(
        project, '[mcp_servers.gh]\ncommand = "gh"\nenv = { GITHUB_TOKEN = "${GITHUB_TOKEN}" }\n'
    )
    assert load_config(project, env={}).config.mcp_servers["gh"].env == {
        "GITHUB_TOKEN": "${GITHUB_TOKEN}"
    }


def test_a_key_shaped_value_under_any_name_is_refused_in_the_project(
    user_dir: Path, project: Path
) -> None:
    write_project(project, '[mcp_servers.x]\nargs = ["--auth", "sk-ant-api03-abcdefghijkl"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    assert caught.value.key == "mcp_servers.x.args"
    assert "sk-ant" not in caught.value.message


def test_an_api_key_anywhere_in_a_config_file_is_refused(user_dir: Path, project: Path) -> None:
    write_user(user_dir, 'api_key = "sk-ant-secret"\n')
    with pytest.raises(ConfigError, match="api_key: a credential"):
        load_config(project, env={})


def test_the_user_file_may_give_an_mcp_server_its_token(user_dir: Path, project: Path) -> None:
    write_user(user_dir, '[mcp_servers.gh]\ncommand = "gh-mcp"\nenv = { GITHUB_TOKEN = "t" }\n')
    config = load_config(project, env={}).config
    assert config.mcp_servers["gh"].env == {"GITHUB_TOKEN": "t"}


def test_an_unreadable_file_is_an_error(user_dir: Path, project: Path) -> None:
    (project / ".arcan" / "config.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(project, env={})


def test_several_problems_are_counted(user_dir: Path, project: Path) -> None:
    write_project(project, "a = 1\nb = 2\nc = 3\n")
    with pytest.raises(ConfigError, match=r"and 2 more problems"):
        load_config(project, env={})
