"""The provider registry: providers are found through the ``arcan.providers`` entry-point group.

Built-in providers register the same way a third-party package would (see ``pyproject.toml``), so
``pip install arcan-provider-foo`` is all it takes to add one. Each ``Provider`` subclass declares
where its key and endpoint come from (``api_key_env``, ``base_url_env``, ``default_base_url``), so
nothing here branches over provider names.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from arcan_core.errors import ConfigError
from arcan_core.providers.base import Provider, ProviderSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from arcan_core.config.model import ArcanConfig

__all__ = [
    "ENTRY_POINT_GROUP",
    "create_provider",
    "detect_provider",
    "provider_class",
    "provider_names",
    "settings_for",
]

ENTRY_POINT_GROUP = "arcan.providers"


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


def provider_names() -> list[str]:
    """Return the names of every installed provider, sorted."""
    return sorted(_entry_points())


@functools.cache
def provider_class(name: str) -> type[Provider]:
    """Return the provider class registered as ``name``.

    Raises:
        ConfigError: no provider has that name, or its entry point is not a ``Provider``.
    """
    points = _entry_points()
    point = points.get(name)
    if point is None:
        known = ", ".join(sorted(points)) or "none installed"
        raise ConfigError(
            f"unknown provider {name!r} (known: {known})",
            key="provider",
            hint="pick one of the known providers, or install the package that adds it",
        )
    loaded = point.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Provider)):
        raise ConfigError(
            f"entry point {point.value!r} for provider {name!r} is not a Provider subclass",
            key="provider",
            hint="reinstall or remove the package that registers it",
        )
    return loaded


def create_provider(settings: ProviderSettings) -> Provider:
    """Instantiate the provider ``settings.name`` with ``settings``."""
    return provider_class(settings.name)(settings)


def _environ() -> Mapping[str, str]:
    import os  # noqa: PLC0415 - only the default path reads the real environment

    return os.environ


def _api_key(env_name: str, env: Mapping[str, str]) -> str | None:
    """The key named ``env_name``: the environment first, then the user key file."""
    from arcan_core.config.secrets import api_key  # noqa: PLC0415 - only when a key is needed

    return api_key(env_name, env=env)


def detect_provider(env: Mapping[str, str] | None = None) -> str | None:
    """Return the first installed provider whose API key is set in ``env``, or ``None``.

    Providers are tried in name order, so the choice is stable; only providers that need a key
    count (a local server or the scripted demo is never picked silently).
    """
    environment = _environ() if env is None else env
    for name in provider_names():
        cls = provider_class(name)
        if cls.api_key_env and _api_key(cls.api_key_env, environment):
            return name
    return None


def settings_for(config: ArcanConfig, *, env: Mapping[str, str] | None = None) -> ProviderSettings:
    """Resolve how to reach the configured provider: endpoint and key.

    The endpoint is ``config.base_url``, else the provider's ``base_url_env`` variable, else its
    ``default_base_url``. The key comes from the provider's ``api_key_env`` variable (or the user
    key file). A missing key is not an error here: the provider reports it on first use with a
    hint, so that ``arcan models`` and ``arcan config`` still work.

    Raises:
        ConfigError: no provider is configured and none can be detected, or the name is unknown.
    """
    environment = _environ() if env is None else env
    name = config.provider or detect_provider(environment)
    if name is None:
        raise ConfigError(
            "no model provider is configured and no API key was found",
            key="provider",
            hint=(
                "set ANTHROPIC_API_KEY or OPENAI_API_KEY, use --provider local for a local server, "
                "or try --provider scripted for a demo"
            ),
        )
    cls = provider_class(name)
    base_url = config.base_url
    if base_url is None and cls.base_url_env:
        base_url = environment.get(cls.base_url_env, "").strip() or None
    if base_url is None:
        base_url = cls.default_base_url
    api_key = _api_key(cls.api_key_env, environment) if cls.api_key_env else None
    return ProviderSettings(
        name=name, base_url=base_url, api_key=api_key, script_path=config.script
    )
