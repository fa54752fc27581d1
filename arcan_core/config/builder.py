"""The layered configuration builder.

Layers, lowest first: built-in defaults < user file (``$XDG_CONFIG_HOME/arcan/config.toml``) <
project file (``.arcan/config.toml``) < environment (``ARCAN_*``) < command-line flags. Tables merge
key by key; any other value (a string, a number, an array) is replaced whole by a higher layer.
The merged tree is validated once into the frozen ``ArcanConfig``; every leaf remembers the layer
that set it, so ``arcan config`` can say where each value came from and an error can name the file.

    resolved = (
        ConfigBuilder()
        .with_user_file()
        .with_project(project_dir)
        .with_environment()
        .with_flags({"model": "claude-sonnet-4-5"})
        .build()
    )
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from arcan_core.config.model import ArcanConfig
from arcan_core.config.secrets import is_secret_name, looks_like_credential
from arcan_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CONFIG_FILE_NAME",
    "ENVIRONMENT",
    "PROVIDER_BASE_URL_ENV",
    "ConfigBuilder",
    "ResolvedConfig",
    "load_config",
    "user_config_file",
]

CONFIG_FILE_NAME = "config.toml"

DEFAULT_SOURCE = "default"
FLAGS_SOURCE = "command line"

ENVIRONMENT: dict[str, str] = {
    "ARCAN_PROVIDER": "provider",
    "ARCAN_MODEL": "model",
    "ARCAN_MODE": "mode",
    "ARCAN_BASE_URL": "base_url",
}
"""``ARCAN_*`` variable -> the dotted key it sets."""

PROVIDER_BASE_URL_ENV: dict[str, str] = {
    "anthropic": "ANTHROPIC_BASE_URL",
    "openai": "OPENAI_BASE_URL",
    "openai-chat": "OPENAI_BASE_URL",
}
"""Provider -> the vendor's own base-URL variable, which applies only when that provider is used."""

_CREDENTIAL_ADVICE = (
    "API keys belong in the environment (ANTHROPIC_API_KEY, OPENAI_API_KEY) or in the user key "
    "file keys.toml (mode 0600), never in a config file that may be committed"
)

_TOML_SHAPES: dict[str, tuple[str, str]] = {
    "dict_type": ("a table", 'write it as a [table] of keys, or inline as {key = "value"}'),
    "model_type": ("a table", 'write it as a [table] of keys, or inline as {key = "value"}'),
    "list_type": ("an array", 'write it as an array: ["a", "b"] (or [] for none)'),
    "tuple_type": ("an array", 'write it as an array: ["a", "b"] (or [] for none)'),
}
"""Pydantic's shape errors in TOML words: a user wrote TOML, not Python ("a valid tuple",
"instance of HarnessConfig" mean nothing to them). Error type -> (what is wanted, hint)."""


def user_config_file() -> Path:
    """Return the user config file (``$XDG_CONFIG_HOME/arcan/config.toml`` on Linux)."""
    from platformdirs import user_config_path  # noqa: PLC0415 - keeps `import arcan_core` light

    return user_config_path("arcan") / CONFIG_FILE_NAME


@dataclass(frozen=True)
class ResolvedConfig:
    """The effective configuration and the layer each value came from.

    Attributes:
        config: the validated, immutable configuration.
        sources: dotted key -> ``"default"``, a file path, ``"environment (ARCAN_MODEL)"`` or
            ``"command line"``. Keys of tables that no layer filled are absent.
    """

    config: ArcanConfig
    sources: dict[str, str] = field(default_factory=dict)

    def source_of(self, key: str) -> str:
        """Return where ``key`` (dotted) was set, or ``"default"``."""
        return self.sources.get(key, DEFAULT_SOURCE)


@dataclass
class _Layer:
    source: str
    data: dict[str, Any]
    leaf_sources: dict[str, str] = field(default_factory=dict)
    """For the environment layer: dotted key -> the variable that set it."""


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _set_dotted(tree: dict[str, Any], dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    node = tree
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> None:
    for key, value in over.items():
        current = base.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _merge(current, value)
        else:
            base[key] = _copy(value)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _credentials(data: Mapping[str, Any], prefix: str = "", *, by_value: bool) -> list[str]:
    """Return the dotted keys that hold a credential.

    A key holds one by its name (``api_key``, ``*_token``…) or, with ``by_value``, by a value
    shaped like a provider token. A value that takes its secret from the environment
    (``"${GITHUB_TOKEN}"``, expanded where it is used) holds none, whatever its key is called.
    """
    found: list[str] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            found += _credentials(value, f"{dotted}.", by_value=by_value)
            continue
        texts = _strings(value)
        if texts and all("${" in text for text in texts):
            continue
        named = is_secret_name(key) and not key.endswith("tokens")  # token counts are not secrets
        if named or (by_value and any(looks_like_credential(text) for text in texts)):
            found.append(dotted)
    return found


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The section model that holds the last element of ``loc`` (for "did you mean")."""
    model: type[BaseModel] = ArcanConfig
    for part in loc[:-1]:
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
            continue
        # dict[str, Section]: the next part is a user-chosen name; the model is the value type.
        args: tuple[Any, ...] = getattr(annotation, "__args__", ())
        if len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
            model = args[1]
            continue
        return None
    return model


class ConfigBuilder:
    """Collects layers and validates them into a ``ResolvedConfig``.

    Each ``with_*`` method adds one layer above the ones added before and returns the builder.
    Defaults are always the bottom layer.
    """

    def __init__(self) -> None:
        self._layers: list[_Layer] = []
        self._env: Mapping[str, str] = {}

    def with_file(self, path: Path, *, project: bool = False) -> ConfigBuilder:
        """Add a TOML file as a layer; a missing file adds nothing.

        Args:
            path: the file.
            project: it is a project file (may be committed): a credential in it is an error.

        Raises:
            ConfigError: unreadable file, bad TOML (with its line), or a credential in it.
        """
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return self
        except OSError as error:
            raise ConfigError(f"cannot read: {error.strerror}", source=str(path)) from error
        import tomllib  # noqa: PLC0415 - only with a file to parse (~2 ms of every start-up)

        try:
            with handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(
                f"invalid TOML: {error}", source=str(path), hint="fix the syntax at that line"
            ) from error
        except OSError as error:
            raise ConfigError(f"cannot read: {error.strerror}", source=str(path)) from error
        secrets = _credentials(data, by_value=project)
        if not project:
            # An MCP server's env or headers in the user's own, uncommitted file may carry a token.
            secrets = [key for key in secrets if not key.startswith("mcp_servers.")]
        if secrets:
            raise ConfigError(
                "a credential does not belong in a config file",
                source=str(path),
                key=secrets[0],
                hint=_CREDENTIAL_ADVICE,
            )
        self._layers.append(_Layer(str(path), data))
        return self

    def with_user_file(self, path: Path | None = None) -> ConfigBuilder:
        """Add the user config file (default: ``user_config_file()``)."""
        return self.with_file(user_config_file() if path is None else path)

    def with_project(self, project_dir: Path) -> ConfigBuilder:
        """Add the project's ``.arcan/config.toml``."""
        return self.with_file(Path(project_dir) / ".arcan" / CONFIG_FILE_NAME, project=True)

    def with_environment(self, env: Mapping[str, str] | None = None) -> ConfigBuilder:
        """Add the ``ARCAN_*`` variables of ``env`` (default: ``os.environ``) as a layer.

        The vendor base-URL variables (``ANTHROPIC_BASE_URL``, ``OPENAI_BASE_URL``) are kept aside
        and apply in ``build`` only when the resolved provider is theirs.
        """
        source = dict(os.environ if env is None else env)
        self._env = source
        data: dict[str, Any] = {}
        leaf_sources: dict[str, str] = {}
        for variable, key in ENVIRONMENT.items():
            value = source.get(variable, "").strip()
            if value:
                _set_dotted(data, key, value)
                leaf_sources[key] = f"environment ({variable})"
        if data:
            self._layers.append(_Layer("environment", data, leaf_sources))
        return self

    def with_flags(self, flags: Mapping[str, object]) -> ConfigBuilder:
        """Add command-line values by dotted key; ``None`` means the flag was not given."""
        data: dict[str, Any] = {}
        for key, value in flags.items():
            if value is not None:
                _set_dotted(data, key, value)
        if data:
            self._layers.append(_Layer(FLAGS_SOURCE, data))
        return self

    def build(self) -> ResolvedConfig:
        """Merge the layers, validate, and return the result.

        Raises:
            ConfigError: a value is invalid or a key unknown; names the layer and the dotted key.
        """
        merged = ArcanConfig().model_dump(mode="python")
        sources = dict.fromkeys(_flatten(merged), DEFAULT_SOURCE)
        for layer in self._layers:
            _merge(merged, layer.data)
            for key in _flatten(layer.data):
                # A table replaced by a scalar (or the reverse) leaves no stale leaves behind.
                for stale in [k for k in sources if k.startswith(f"{key}.")]:
                    del sources[stale]
                parts = key.split(".")
                for depth in range(1, len(parts)):
                    sources.pop(".".join(parts[:depth]), None)
                sources[key] = layer.leaf_sources.get(key, layer.source)
        self._apply_vendor_base_url(merged, sources)
        try:
            config = ArcanConfig.model_validate(merged)
        except ValidationError as error:
            raise _config_error(error, sources) from None
        return ResolvedConfig(config=config, sources=sources)

    def _apply_vendor_base_url(self, merged: dict[str, Any], sources: dict[str, str]) -> None:
        variable = PROVIDER_BASE_URL_ENV.get(str(merged.get("provider")))
        value = self._env.get(variable, "").strip() if variable else ""
        if not variable or not value:
            return
        # ARCAN_BASE_URL and --base-url name arcan's endpoint explicitly; they win.
        if sources.get("base_url", DEFAULT_SOURCE).startswith(("environment", FLAGS_SOURCE)):
            return
        merged["base_url"] = value
        sources["base_url"] = f"environment ({variable})"


def _config_error(error: ValidationError, sources: Mapping[str, str]) -> ConfigError:
    """Map pydantic's first error to a message naming the layer, the dotted key and the want."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(part) for part in loc)
    source = sources.get(key) or _nearest_source(key, sources)
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    hint: str | None = None
    if first["type"] == "extra_forbidden":
        message = f"unknown key{suffix}"
        model = _model_at(loc)
        if model is not None:
            known = sorted(model.model_fields)
            import difflib  # noqa: PLC0415 - only on this error path

            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
    elif first["type"] == "missing":
        message = f"required key is missing{suffix}"
    elif first["type"] in _TOML_SHAPES:
        wanted, hint = _TOML_SHAPES[first["type"]]
        message = f"must be {wanted} (got {first['input']!r}){suffix}"
    else:
        problem = first["msg"][0].lower() + first["msg"][1:]
        message = f"{problem} (got {first['input']!r}){suffix}"
    return ConfigError(message, source=source, key=key, hint=hint)


def _nearest_source(key: str, sources: Mapping[str, str]) -> str | None:
    """The layer of the closest key set under the same table (for a missing key)."""
    parts = key.split(".")
    while parts:
        prefix = ".".join(parts) + "."
        found = [source for name, source in sources.items() if name.startswith(prefix)]
        non_default = [source for source in found if source != DEFAULT_SOURCE]
        if non_default:
            return non_default[-1]
        parts.pop()
    return None


def load_config(
    project_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> ResolvedConfig:
    """Resolve the configuration for ``project_dir``: every layer, validated.

    Args:
        project_dir: the project whose ``.arcan/config.toml`` is a layer.
        env: the environment (default: ``os.environ``). The user file's location follows the
            process's ``XDG_CONFIG_HOME``.
        flags: command-line values by dotted key (``None`` values are ignored).

    Raises:
        ConfigError: a file or value is invalid; the message names the file and the key.
    """
    return (
        ConfigBuilder()
        .with_user_file()
        .with_project(project_dir)
        .with_environment(env)
        .with_flags(flags or {})
        .build()
    )
