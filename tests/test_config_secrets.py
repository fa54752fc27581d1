"""API keys come from the environment or a private key file; redaction scrubs them everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcan_core.config.secrets import (
    Redactor,
    api_key,
    key_file_path,
    redact,
    secret_env_names,
)
from arcan_core.errors import SecretFileError

if TYPE_CHECKING:
    from pathlib import Path


def key_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_environment_variable_wins(tmp_path: Path) -> None:
    path = key_file(tmp_path, 'ANTHROPIC_API_KEY = "from-file"\n')
    env = {"ANTHROPIC_API_KEY": "  from-env  "}
    assert api_key("ANTHROPIC_API_KEY", env=env, key_file=path) == "from-env"


def test_the_key_file_is_used_when_the_variable_is_unset(tmp_path: Path) -> None:
    path = key_file(tmp_path, 'OPENAI_API_KEY = "file-key-123456"\n')
    assert api_key("OPENAI_API_KEY", env={"OPENAI_API_KEY": ""}, key_file=path) == (
        "file-key-123456"
    )
    assert api_key("ANTHROPIC_API_KEY", env={}, key_file=path) is None


def test_no_key_anywhere(tmp_path: Path) -> None:
    assert api_key("ANTHROPIC_API_KEY", env={}, key_file=tmp_path / "absent.toml") is None


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path, 'ANTHROPIC_API_KEY = "k-12345678"\n', mode=0o644)
    with pytest.raises(SecretFileError) as caught:
        api_key("ANTHROPIC_API_KEY", env={}, key_file=path)
    assert caught.value.hint == f"chmod 600 {path}"
    assert "0644" in caught.value.message
    assert "k-12345678" not in caught.value.message


def test_a_malformed_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = key_file(tmp_path, 'ANTHROPIC_API_KEY = "sk-ant-unterminated\n')
    with pytest.raises(SecretFileError, match="line 1") as caught:
        api_key("ANTHROPIC_API_KEY", env={}, key_file=path)
    assert "sk-ant" not in caught.value.message


def test_a_non_string_key_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path, "ANTHROPIC_API_KEY = 42\n")
    with pytest.raises(SecretFileError, match="ANTHROPIC_API_KEY: expected a non-empty string"):
        api_key("ANTHROPIC_API_KEY", env={}, key_file=path)


def test_the_default_key_file_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert key_file_path() == tmp_path / "arcan" / "keys.toml"
    (tmp_path / "arcan").mkdir()
    key_file(tmp_path / "arcan", 'ANTHROPIC_API_KEY = "xdg-key-value"\n')
    assert api_key("ANTHROPIC_API_KEY", env={}) == "xdg-key-value"


def test_secret_looking_environment_values_are_redacted() -> None:
    env = {
        "GITHUB_TOKEN": "tok-1234567890",
        "DB_PASSWORD": "hunter2hunter2",
        "my_secret": "lowercase-secret",
        "API_KEY": "short",  # too short to scrub safely
        "HOME": "/home/someone-long",  # not secret-looking
    }
    text = "tok-1234567890 hunter2hunter2 lowercase-secret short /home/someone-long"
    assert redact(text, env=env) == "[REDACTED] [REDACTED] [REDACTED] short /home/someone-long"
    assert secret_env_names(env) == {"GITHUB_TOKEN", "DB_PASSWORD", "my_secret", "API_KEY"}


def test_provider_key_shapes_are_redacted_anywhere() -> None:
    text = (
        "a sk-ant-api03-AbCdEfGhIjKlMnOp b sk-proj-AbCdEfGhIjKl1234 "
        "c sk-AbCdEfGhIjKlMnOpQrSt d ghp_AbCdEfGhIjKlMnOpQrStUvWx0123"
    )
    assert redact(text, env={}) == "a [REDACTED] b [REDACTED] c [REDACTED] d [REDACTED]"


def test_key_shapes_inside_longer_words_are_left_alone() -> None:
    # Base64 data (a thinking signature, an image) must survive untouched.
    blob = "QUJDask-AbCdEfGhIjKlMnOpQrStUvWx"
    assert redact(blob, env={}) == blob
    assert redact("risk-assessment-of-the-design", env={}) == "risk-assessment-of-the-design"


def test_url_credentials_are_redacted() -> None:
    assert redact("proxy https://alice:s3cret@proxy.example/v1 ok", env={}) == (
        "proxy https://[REDACTED]@proxy.example/v1 ok"
    )
    assert redact("https://proxy.example/v1", env={}) == "https://proxy.example/v1"


def test_keys_handed_out_are_redacted_even_from_the_file(tmp_path: Path) -> None:
    path = key_file(tmp_path, 'ANTHROPIC_API_KEY = "plain-file-key-value"\n')
    value = api_key("ANTHROPIC_API_KEY", env={}, key_file=path)
    assert value is not None
    assert redact(f"error: bad key {value}", env={}) == "error: bad key [REDACTED]"


def test_a_redactor_built_before_a_key_was_looked_up_still_scrubs_it(tmp_path: Path) -> None:
    scrub = Redactor(env={})
    path = key_file(tmp_path, 'OPENAI_API_KEY = "late-looked-up-key-42"\n')
    assert api_key("OPENAI_API_KEY", env={}, key_file=path) == "late-looked-up-key-42"
    assert scrub("leak: late-looked-up-key-42") == "leak: [REDACTED]"


@given(
    secret=st.text(min_size=8, max_size=30).filter(lambda text: "[" not in text and text.strip()),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_a_secret_value_never_survives_redaction(secret: str, before: str, after: str) -> None:
    env = {"SERVICE_TOKEN": secret}
    assert secret not in redact(before + secret + after + secret, env=env)
