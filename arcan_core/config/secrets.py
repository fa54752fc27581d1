"""API keys and redaction: where secrets may come from, and how they are kept out of output.

API keys come from exactly two places: the provider's standard environment variable
(``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``) or the user-only key file
``user_config_path("arcan")/keys.toml``, whose top-level keys are the same variable names::

    ANTHROPIC_API_KEY = "sk-ant-..."

The key file must not be readable or writable by group or others (mode 0600); otherwise
``SecretFileError`` says how to fix it. The project's ``.arcan/config.toml`` may be committed, so a
key there is a ``ConfigError`` (see ``config.builder``).

``redact`` is the one scrubber every output path uses (session log, printed config, tool output,
error messages): it replaces the values of secret-looking environment variables, every key this
module handed out, and strings shaped like well-known provider tokens with ``[REDACTED]``.
"""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING

from arcan_core.errors import SecretFileError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = [
    "KEY_FILE_NAME",
    "REDACTED",
    "Redactor",
    "api_key",
    "is_secret_name",
    "key_file_path",
    "looks_like_credential",
    "redact",
    "secret_env_names",
]

KEY_FILE_NAME = "keys.toml"
REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8
"""Shorter values of secret-looking variables are not scrubbed: they would match ordinary text."""

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)

# Shapes of well-known credentials. The look-behind keeps a match from starting inside a longer
# word (a base64 blob that happens to contain "sk-"), which would corrupt unrelated data.
_TOKEN_SHAPES = (
    r"sk-ant-[A-Za-z0-9_\-]{8,}",  # Anthropic
    r"sk-proj-[A-Za-z0-9_\-]{8,}",  # OpenAI project keys
    r"sk-[A-Za-z0-9_\-]{16,}",  # OpenAI and compatible
    r"gh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"xox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack
    r"AKIA[0-9A-Z]{16}",  # AWS access key ids
)
_SHAPES_PATTERN = r"(?<![A-Za-z0-9_\-])(?:" + "|".join(_TOKEN_SHAPES) + r")"
# user:password@ in a URL (a base URL of a proxy, a git remote).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@:]+:[^/\s@]+@")

_handed_out: set[str] = set()
"""Every API key ``api_key`` returned in this process, so ``redact`` scrubs it wherever it goes."""


_SHAPES = re.compile(_SHAPES_PATTERN)


def looks_like_credential(text: str) -> bool:
    """Return whether ``text`` contains a string shaped like a well-known provider token."""
    return _SHAPES.search(text) is not None


def is_secret_name(name: str) -> bool:
    """Return whether an environment variable or config key name looks like it holds a secret."""
    return _SECRET_NAME.search(name) is not None


def secret_env_names(env: Mapping[str, str] | None = None) -> set[str]:
    """Return the names of the secret-looking variables of ``env`` (default: ``os.environ``).

    A name is secret-looking when it contains KEY, TOKEN, SECRET or PASSWORD (any case). Tools use
    this to keep such variables out of the environment of commands they run.
    """
    source = os.environ if env is None else env
    return {name for name in source if is_secret_name(name)}


def key_file_path() -> Path:
    """Return the path of the user key file (``$XDG_CONFIG_HOME/arcan/keys.toml`` on Linux)."""
    from platformdirs import user_config_path  # noqa: PLC0415 - only when a key is looked up

    return user_config_path("arcan") / KEY_FILE_NAME


def _read_key_file(path: Path) -> dict[str, object]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise SecretFileError(
            f"cannot read the key file: {error.strerror}", source=str(path)
        ) from error
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretFileError(
            f"the key file is accessible by other users (mode {stat.S_IMODE(info.st_mode):04o})",
            source=str(path),
            hint=f"chmod 600 {path}",
        )
    import tomllib  # noqa: PLC0415 - only when there is a key file (~2 ms of every start-up)

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        # tomllib's messages name the line and column, never the content of the line.
        raise SecretFileError(f"invalid TOML: {error}", source=str(path)) from error
    except OSError as error:
        raise SecretFileError(
            f"cannot read the key file: {error.strerror}", source=str(path)
        ) from error


def api_key(
    env_var: str,
    *,
    env: Mapping[str, str] | None = None,
    key_file: Path | None = None,
) -> str | None:
    """Return the API key named ``env_var``, or ``None`` when it is not configured.

    The environment variable wins; otherwise the key of the same name in the user key file.

    Args:
        env_var: the standard variable, such as ``ANTHROPIC_API_KEY``; also the key file's key.
        env: the environment to read (default: ``os.environ``).
        key_file: the key file (default: ``key_file_path()``); tests pass a temporary one.

    Raises:
        SecretFileError: the key file is readable by others, malformed, or holds a non-string.
    """
    source = os.environ if env is None else env
    value = source.get(env_var, "").strip()
    if not value:
        path = key_file_path() if key_file is None else key_file
        raw = _read_key_file(path).get(env_var)
        if raw is None:
            return None
        if not isinstance(raw, str) or not raw.strip():
            raise SecretFileError("expected a non-empty string", source=str(path), key=env_var)
        value = raw.strip()
    _handed_out.add(value)
    return value


def _handed_out_count() -> int:
    return len(_handed_out)


class Redactor:
    """A compiled scrubber for one environment: one regular expression, applied in one pass.

    Build one per long-lived writer (the session log) and call it per line; ``redact`` builds one
    per call for occasional use. A key ``api_key`` hands out later is picked up on the next call.
    """

    def __init__(self, env: Mapping[str, str] | None = None, *, extra: Iterable[str] = ()) -> None:
        source = os.environ if env is None else env
        self._base = {
            value for name, value in source.items() if is_secret_name(name) and value.strip()
        }
        self._base.update(extra)
        self._compile()

    def _compile(self) -> None:
        self._seen = _handed_out_count()
        values = self._base | _handed_out
        literal = sorted(
            (value for value in values if len(value) >= MIN_SECRET_LENGTH), key=len, reverse=True
        )
        # Longest first, so a secret that contains another is replaced whole.
        parts = [re.escape(value) for value in literal]
        # A JSON line holds the escaped form of a value with quotes or backslashes in it.
        parts += [
            re.escape(escaped)
            for value in literal
            if (escaped := value.replace("\\", "\\\\").replace('"', '\\"')) != value
        ]
        parts.append(_SHAPES_PATTERN)
        self._pattern = re.compile("|".join(parts))

    def __call__(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``[REDACTED]``."""
        if self._seen != _handed_out_count():
            self._compile()  # a key was looked up after this redactor was built
        text = self._pattern.sub(REDACTED, text)
        if "://" in text:
            text = _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text)
        return text


def redact(text: str, *, env: Mapping[str, str] | None = None) -> str:
    """Replace secrets in ``text`` with ``[REDACTED]``.

    Scrubbed: values (8 characters or more) of environment variables whose names contain KEY,
    TOKEN, SECRET or PASSWORD; every API key ``api_key`` returned; strings shaped like provider
    keys (``sk-ant-…``, ``sk-proj-…``, ``sk-…``, GitHub ``ghp_…``, Slack, AWS key ids); and the
    ``user:password@`` part of URLs.

    Args:
        text: any text bound for a log, a screen or an error message.
        env: the environment whose secret values to scrub (default: ``os.environ``).
    """
    return Redactor(env)(text)
