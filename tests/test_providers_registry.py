"""The provider registry, settings resolution, the model registry and the HTTP helpers."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcan_core.config.model import ArcanConfig, ModelOverride
from arcan_core.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    ContextTooLongError,
    OverloadedError,
    RateLimitError,
    ServerError,
)
from arcan_core.protocol.messages import Usage
from arcan_core.providers.base import Provider, ProviderSettings
from arcan_core.providers.http import (
    ErrorContext,
    RetryPolicy,
    error_from_body,
    parse_retry_after,
    redact_headers,
)
from arcan_core.providers.models import GENERIC, known_models, model_info
from arcan_core.providers.registry import (
    ENTRY_POINT_GROUP,
    create_provider,
    detect_provider,
    provider_class,
    provider_names,
    settings_for,
)
from arcan_core.providers.scripted import ScriptedProvider

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def no_user_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keys come from the env mapping under test, never from the developer's own key file.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_builtin_providers_are_registered_by_entry_point() -> None:
    assert {"anthropic", "openai", "openai-chat", "local", "scripted"} <= set(provider_names())
    for point in entry_points(group=ENTRY_POINT_GROUP):
        cls = provider_class(point.name)
        assert issubclass(cls, Provider)
        assert cls.name == point.name
        assert cls.default_model


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown provider 'nope'") as info:
        provider_class("nope")
    assert "anthropic" in info.value.message
    assert "scripted" in info.value.message
    assert info.value.hint


def test_create_provider_instantiates_the_named_class() -> None:
    provider = create_provider(ProviderSettings(name="scripted"))
    assert isinstance(provider, ScriptedProvider)


def test_settings_from_environment() -> None:
    env = {"ANTHROPIC_API_KEY": " sk-ant-1 ", "ANTHROPIC_BASE_URL": "http://proxy:9000"}
    settings = settings_for(ArcanConfig(provider="anthropic"), env=env)
    assert settings.name == "anthropic"
    assert settings.api_key == "sk-ant-1"
    assert settings.base_url == "http://proxy:9000"
    assert "sk-ant-1" not in repr(settings)


def test_config_base_url_beats_environment_and_default_applies() -> None:
    env = {"OPENAI_BASE_URL": "http://env/v1", "OPENAI_API_KEY": "sk-o"}
    config = ArcanConfig(provider="openai-chat", base_url="http://flag/v1")
    assert settings_for(config, env=env).base_url == "http://flag/v1"
    assert settings_for(ArcanConfig(provider="openai"), env={}).base_url == (
        "https://api.openai.com/v1"
    )
    assert settings_for(ArcanConfig(provider="openai"), env={}).api_key is None


def test_local_needs_no_key_and_scripted_takes_the_script() -> None:
    env = {"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"}
    local = settings_for(ArcanConfig(provider="local"), env=env)
    assert (local.api_key, local.base_url) == (None, None)
    scripted = settings_for(ArcanConfig(provider="scripted", script="demo.jsonl"), env=env)
    assert scripted.script_path == "demo.jsonl"


def test_key_comes_from_the_user_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "config" / "arcan" / "keys.toml"
    key_file.parent.mkdir(parents=True)
    key_file.write_text('ANTHROPIC_API_KEY = "sk-ant-from-file"\n', encoding="utf-8")
    key_file.chmod(0o600)
    settings = settings_for(ArcanConfig(provider="anthropic"), env={})
    assert settings.api_key == "sk-ant-from-file"


def test_detection_picks_a_provider_whose_key_is_set() -> None:
    assert detect_provider({"OPENAI_API_KEY": "sk"}) == "openai"
    assert detect_provider({"ANTHROPIC_API_KEY": "sk", "OPENAI_API_KEY": "sk"}) == "anthropic"
    assert detect_provider({}) is None
    assert settings_for(ArcanConfig(), env={"OPENAI_API_KEY": "sk"}).name == "openai"


def test_no_provider_and_no_key_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="no model provider") as info:
        settings_for(ArcanConfig(), env={})
    assert info.value.hint is not None
    assert "ANTHROPIC_API_KEY" in info.value.hint
    assert "scripted" in info.value.hint


# -- models ----------------------------------------------------------------------------------


def test_known_model_and_dated_snapshot_resolve() -> None:
    info = model_info("anthropic", "claude-sonnet-4-5-20250929")
    assert info.id == "claude-sonnet-4-5-20250929"
    assert info.context_window == 200_000
    assert (info.input_per_mtok, info.output_per_mtok) == (3.0, 15.0)
    assert info.cache_read_per_mtok == pytest.approx(0.3)
    assert info.cache_write_per_mtok == pytest.approx(3.75)
    assert model_info("openai-chat", "gpt-4.1-mini").input_per_mtok == 0.4
    assert model_info("openai", "gpt-5").supports_thinking
    assert not model_info("openai", "gpt-4.1").supports_thinking


def test_unknown_models_get_their_family_s_limits_and_no_price() -> None:
    # A Claude release newer than the registry must not be capped at 4k output tokens and
    # compacted at 28k: the family's limits apply, and no price is guessed.
    unknown = model_info("anthropic", "claude-99")
    assert (unknown.id, unknown.provider) == ("claude-99", "anthropic")
    assert unknown.context_window == 200_000
    assert unknown.max_output_tokens == 32_000
    assert unknown.input_per_mtok == 0
    new_gpt = model_info("openai-chat", "gpt-9")
    assert (new_gpt.context_window, new_gpt.max_output_tokens) == (128_000, 16_384)
    assert new_gpt.provider == "openai-chat"
    through_local = model_info("local", "gpt-4o")
    assert through_local.input_per_mtok == 0
    assert through_local.provider == "local"
    assert through_local.context_window == GENERIC.context_window
    assert model_info("scripted", "anything").context_window == GENERIC.context_window


def test_config_overrides_any_field() -> None:
    overrides = {
        "claude-haiku-4-5": ModelOverride(context_window=100_000, input_per_mtok=2.0),
        "my-local": ModelOverride(context_window=65_536),
    }
    haiku = model_info("anthropic", "claude-haiku-4-5", overrides)
    assert (haiku.context_window, haiku.input_per_mtok, haiku.output_per_mtok) == (
        100_000,
        2.0,
        5.0,
    )
    assert model_info("local", "my-local", overrides).context_window == 65_536


def test_cost_from_usage() -> None:
    info = model_info("anthropic", "claude-sonnet-4-5")
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_read_tokens=2_000_000,
        cache_write_tokens=1_000_000,
    )
    assert info.cost_usd(usage) == pytest.approx(3.0 + 1.5 + 0.6 + 3.75)


def test_known_models_per_family() -> None:
    assert {m.id for m in known_models("anthropic")} >= {"claude-sonnet-4-5", "claude-opus-4-5"}
    assert all(m.provider == "openai-chat" for m in known_models("openai-chat"))
    assert known_models("local") == []


# -- HTTP helpers ----------------------------------------------------------------------------


def test_backoff_doubles_with_bounded_jitter_and_stops() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_s=1.0, max_delay_s=10.0, jitter=0.25)
    assert [policy.delay_s(n, None, 0.5) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert policy.delay_s(0, None, 0.0) == 0.75
    assert policy.delay_s(0, None, 0.999) == pytest.approx(1.25, abs=0.01)
    assert policy.delay_s(5, None, 0.5) is None
    assert policy.delay_s(0, 7.0, 0.5) == 7.0
    assert policy.delay_s(0, 61.0, 0.5) is None


@given(failures=st.integers(0, 50), unit=st.floats(0, 1, exclude_max=True))
def test_backoff_stays_within_bounds(failures: int, unit: float) -> None:
    policy = RetryPolicy(max_retries=100)
    delay = policy.delay_s(failures, None, unit)
    assert delay is not None
    assert 0 < delay <= policy.max_delay_s * (1 + policy.jitter)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480) == 10
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_redact_headers_masks_credentials_only() -> None:
    headers = {"x-api-key": "k1", "Authorization": "Bearer k2", "anthropic-version": "v"}
    assert redact_headers(headers) == {
        "x-api-key": "***",
        "Authorization": "***",
        "anthropic-version": "v",
    }


CTX = ErrorContext("Anthropic", "ANTHROPIC_API_KEY")


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "x"}},
            None,
            OverloadedError,
        ),
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "x"}},
            529,
            OverloadedError,
        ),
        ({"error": {"type": "api_error", "message": "x"}}, 503, OverloadedError),
        ({"error": {"type": "api_error", "message": "x"}}, 500, ServerError),
        ({"error": {"code": "insufficient_quota", "message": "x"}}, 429, BadRequestError),
        ({"error": {"code": "rate_limit_exceeded", "message": "x"}}, 429, RateLimitError),
        ({"error": {"code": "invalid_api_key", "message": "x"}}, 401, AuthError),
        ("<html>bad gateway</html>", 502, ServerError),
        ({"error": {"message": "Input is too long: too many tokens"}}, 400, ContextTooLongError),
    ],
)
def test_error_mapping(body: object, status: int | None, expected: type[Exception]) -> None:
    error = error_from_body(body, ctx=CTX, status=status)
    assert type(error) is expected
    assert error.hint


def test_quota_error_hint_is_about_billing() -> None:
    error = error_from_body(
        {"error": {"code": "insufficient_quota", "message": "You exceeded your quota"}},
        ctx=CTX,
        status=429,
    )
    assert error.hint is not None
    assert "billing" in error.hint
    assert not error.retryable


def test_longest_registered_prefix_wins() -> None:
    assert model_info("openai", "gpt-5-mini-2025-08-07").input_per_mtok == 0.25
    assert model_info("openai", "o3-mini-2025-01-31").cache_read_per_mtok == 0.55
    assert model_info("anthropic", "claude-opus-4-5-20251101").output_per_mtok == 25.0
    assert model_info("anthropic", "claude-opus-4-20250514").output_per_mtok == 75.0
