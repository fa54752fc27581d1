"""What ``/model ARGS`` asks for, shared by the TUI and line mode so both read it the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arcan_core.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["model_choice"]


def model_choice(words: Sequence[str]) -> tuple[str | None, str]:
    """Return ``(provider, model)`` for the words after ``/model``.

    ``PROVIDER MODEL`` names both. A lone word that names an installed provider
    (``/model anthropic``) means that provider's default model: read as a model name it would ask
    the current provider for a model called "anthropic", which is never what the user meant. Any
    other lone word is a model of the current provider (``provider`` is ``None``).

    Raises:
        UsageError: no words, or more than two.
    """
    if not 1 <= len(words) <= 2:
        raise UsageError("/model takes [PROVIDER] [MODEL]", hint="e.g. /model anthropic")
    if len(words) == 2:
        return words[0], words[1]
    from arcan_core.providers.registry import provider_class, provider_names  # noqa: PLC0415

    if words[0] in provider_names():
        return words[0], provider_class(words[0]).default_model
    return None, words[0]
