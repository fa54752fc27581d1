"""The model registry, as data: context windows, output limits and prices per million tokens.

Prices are the providers' published list prices (USD per million tokens) as of late 2025; cache
write is the 5-minute cache price on Anthropic, and OpenAI bills no cache write. They go stale:
``[models."<id>"]`` tables in the config override any field (``config.model.ModelOverride``), and
an unknown model gets zero prices rather than a guess, with the limits of its family when its
provider is a hosted one (``FAMILY_LIMITS``: every Claude model has a 200k window) and the
``GENERIC`` limits otherwise (a local model).

A dated id (``claude-sonnet-4-5-20250929``) resolves to the longest registered prefix
(``claude-sonnet-4-5``), so new snapshots of a known model need no new entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.providers.base import ModelInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from arcan_core.config.model import ModelOverride

__all__ = ["FAMILY_LIMITS", "GENERIC", "MODELS", "known_models", "model_info"]


def _anthropic(
    model_id: str,
    window: int,
    output: int,
    price_in: float,
    price_out: float,
    *,
    thinking: bool = True,
) -> ModelInfo:
    # Anthropic bills cache reads at 0.1x and 5-minute cache writes at 1.25x the input price.
    return ModelInfo(
        id=model_id,
        provider="anthropic",
        context_window=window,
        max_output_tokens=output,
        input_per_mtok=price_in,
        output_per_mtok=price_out,
        cache_read_per_mtok=round(price_in * 0.1, 4),
        cache_write_per_mtok=round(price_in * 1.25, 4),
        supports_images=True,
        supports_thinking=thinking,
    )


def _openai(
    model_id: str,
    window: int,
    output: int,
    price_in: float,
    price_out: float,
    cached: float,
    *,
    reasoning: bool,
) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        provider="openai",
        context_window=window,
        max_output_tokens=output,
        input_per_mtok=price_in,
        output_per_mtok=price_out,
        cache_read_per_mtok=cached,
        cache_write_per_mtok=0.0,
        supports_images=True,
        supports_thinking=reasoning,
    )


_ENTRIES: tuple[ModelInfo, ...] = (
    _anthropic("claude-opus-4-5", 200_000, 64_000, 5.0, 25.0),
    _anthropic("claude-opus-4-1", 200_000, 32_000, 15.0, 75.0),
    _anthropic("claude-opus-4", 200_000, 32_000, 15.0, 75.0),
    _anthropic("claude-sonnet-4-5", 200_000, 64_000, 3.0, 15.0),
    _anthropic("claude-sonnet-4", 200_000, 64_000, 3.0, 15.0),
    _anthropic("claude-haiku-4-5", 200_000, 64_000, 1.0, 5.0),
    _anthropic("claude-3-7-sonnet", 200_000, 64_000, 3.0, 15.0),
    _anthropic("claude-3-5-haiku", 200_000, 8_192, 0.8, 4.0, thinking=False),
    _openai("gpt-5.1", 400_000, 128_000, 1.25, 10.0, 0.125, reasoning=True),
    _openai("gpt-5", 400_000, 128_000, 1.25, 10.0, 0.125, reasoning=True),
    _openai("gpt-5-codex", 400_000, 128_000, 1.25, 10.0, 0.125, reasoning=True),
    _openai("gpt-5-mini", 400_000, 128_000, 0.25, 2.0, 0.025, reasoning=True),
    _openai("gpt-5-nano", 400_000, 128_000, 0.05, 0.40, 0.005, reasoning=True),
    _openai("gpt-4.1", 1_047_576, 32_768, 2.0, 8.0, 0.5, reasoning=False),
    _openai("gpt-4.1-mini", 1_047_576, 32_768, 0.4, 1.6, 0.1, reasoning=False),
    _openai("gpt-4.1-nano", 1_047_576, 32_768, 0.1, 0.4, 0.025, reasoning=False),
    _openai("gpt-4o", 128_000, 16_384, 2.5, 10.0, 1.25, reasoning=False),
    _openai("gpt-4o-mini", 128_000, 16_384, 0.15, 0.6, 0.075, reasoning=False),
    _openai("o3", 200_000, 100_000, 2.0, 8.0, 0.5, reasoning=True),
    _openai("o4-mini", 200_000, 100_000, 1.1, 4.4, 0.275, reasoning=True),
    _openai("o3-mini", 200_000, 100_000, 1.1, 4.4, 0.55, reasoning=True),
)

MODELS: dict[str, ModelInfo] = {entry.id: entry for entry in _ENTRIES}
"""Every registered model by id."""

GENERIC = ModelInfo(id="generic", provider="local", context_window=32_768, max_output_tokens=4096)
"""Limits assumed for a model the registry does not know (a local model, a new release)."""

FAMILY_LIMITS: dict[str, ModelInfo] = {
    "anthropic": ModelInfo(
        id="claude", provider="anthropic", context_window=200_000, max_output_tokens=32_000
    ),
    "openai": ModelInfo(
        id="gpt", provider="openai", context_window=128_000, max_output_tokens=16_384
    ),
}
"""Limits assumed for a model of a hosted family that the registry does not know yet (a release
newer than this table). The generic 32k window and 4k output would cap its replies at 4k tokens
and compact at a sixth of its real window; these are the smallest limits of the family's current
models. Prices stay zero: a guessed price would be a wrong bill."""

_FAMILY: dict[str, str] = {
    "openai": "openai",
    "openai-chat": "openai",
    "anthropic": "anthropic",
}
"""Which registry family a provider's models belong to (others use ``GENERIC``)."""


def _lookup(model: str) -> ModelInfo | None:
    if model in MODELS:
        return MODELS[model]
    # A dated snapshot or a suffixed variant of a registered model: longest prefix wins.
    candidates = [key for key in MODELS if model.startswith(key + "-")]
    return MODELS[max(candidates, key=len)] if candidates else None


def model_info(
    provider: str, model: str, overrides: Mapping[str, ModelOverride] | None = None
) -> ModelInfo:
    """Return what arcan knows of ``model`` on ``provider``, with config overrides applied."""
    found = _lookup(model)
    family = _FAMILY.get(provider)
    if found is None or family != found.provider:
        # Through a local server a model id like "gpt-4o" is somebody's weights, not a bill.
        limits = FAMILY_LIMITS.get(family, GENERIC) if family else GENERIC
        base = limits.model_copy(update={"id": model, "provider": provider})
    else:
        base = found.model_copy(update={"id": model, "provider": provider})
    override = (overrides or {}).get(model)
    if override is None:
        return base
    changes = {key: value for key, value in override.model_dump().items() if value is not None}
    return base.model_copy(update=changes) if changes else base


def known_models(provider: str) -> list[ModelInfo]:
    """The registry's models for ``provider``'s family (empty for local servers)."""
    family = _FAMILY.get(provider)
    return [
        entry.model_copy(update={"provider": provider})
        for entry in _ENTRIES
        if entry.provider == family
    ]
