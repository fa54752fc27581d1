"""The one exception hierarchy of arcan.

Every error that arcan raises on purpose is an ``ArcanError``. The application edge
(``arcan_tui.cli``) turns one into a single line on stderr plus a hint and an exit code;
a user never sees a traceback for bad input, a missing key or a provider outage.

    ArcanError                      message + hint + exit_code
    ├── UsageError                  bad command-line use                         (exit 2)
    ├── ConfigError                 a config file or value is wrong              (exit 2)
    │   └── SecretFileError         the key file has unsafe permissions          (exit 2)
    ├── ProviderError               the model provider failed                    (exit 1)
    │   ├── AuthError               missing or rejected API key
    │   ├── RateLimitError          429
    │   ├── OverloadedError         529 / overloaded_error / 503
    │   ├── ContextTooLongError     the prompt is larger than the window
    │   ├── BadRequestError         400 the provider would reject again
    │   ├── NetworkError            connection refused, reset, timed out
    │   ├── ServerError             408, 409, 5xx: the provider failed; retryable
    │   └── StreamError             the stream broke or spoke malformed data
    ├── ToolError                   a tool call failed; reported to the model    (exit 1)
    │   ├── ToolInputError          invalid JSON or schema violation
    │   ├── PathEscapeError         a path resolves outside the workspace
    │   ├── ApprovalDeniedError     the user or policy refused the call
    │   └── SandboxDeniedError      the OS sandbox refused an operation
    ├── StoreError                  the session store under .arcan/               (exit 1)
    │   ├── SessionNotFoundError
    │   ├── SessionLockedError      another live process writes the session
    │   └── SchemaVersionError      a record written by a newer arcan
    ├── HarnessError                a check or hook could not run                 (exit 1)
    └── ProtocolError               MCP or ACP peer misbehaved                    (exit 1)

Messages never contain secrets: provider errors are built from status codes and the
provider's own error text, never from request headers.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ApprovalDeniedError",
    "ArcanError",
    "AuthError",
    "BadRequestError",
    "ConfigError",
    "ContextTooLongError",
    "HarnessError",
    "NetworkError",
    "OverloadedError",
    "PathEscapeError",
    "ProtocolError",
    "ProviderError",
    "RateLimitError",
    "SandboxDeniedError",
    "SchemaVersionError",
    "SecretFileError",
    "ServerError",
    "SessionLockedError",
    "SessionNotFoundError",
    "StoreError",
    "StreamError",
    "ToolError",
    "ToolInputError",
    "UsageError",
]


class ArcanError(Exception):
    """Base of every error arcan raises on purpose.

    Attributes:
        message: one line that says what went wrong.
        hint: one line that says what to do about it, or ``None``.
        exit_code: the process exit code when this error ends a command.
    """

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ArcanError):
    """The command line was used wrongly."""

    exit_code = 2


class ConfigError(ArcanError):
    """A configuration file or value is invalid.

    ``source`` names the file (or ``environment`` / ``command line``) and ``key`` the dotted
    key, so the message can point at the exact place to fix.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.source = source
        self.key = key


class SecretFileError(ConfigError):
    """The user key file is readable by others or malformed."""


class ProviderError(ArcanError):
    """The model provider failed.

    ``retryable`` says whether the same request may succeed later; ``status`` is the HTTP
    status when there was one.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.retry_after_s = retry_after_s


class AuthError(ProviderError):
    """The API key is missing or was rejected."""


class RateLimitError(ProviderError):
    """The provider asked us to slow down (429)."""

    retryable = True


class OverloadedError(ProviderError):
    """The provider is overloaded (Anthropic 529, ``overloaded_error``, 503)."""

    retryable = True


class ContextTooLongError(ProviderError):
    """The request is larger than the model's context window."""


class BadRequestError(ProviderError):
    """The provider rejected the request as malformed; retrying will not help."""


class NetworkError(ProviderError):
    """The connection failed or timed out."""

    retryable = True


class ServerError(ProviderError):
    """The provider failed on its side (500, 502, 504, 408, 409); the same request may work."""

    retryable = True


class StreamError(ProviderError):
    """The response stream broke off or carried malformed data."""


class ToolError(ArcanError):
    """A tool call failed. The agent reports it to the model, which may correct itself."""


class ToolInputError(ToolError):
    """The model's arguments were not valid JSON or broke the tool's schema."""


class PathEscapeError(ToolError):
    """A path resolves outside the workspace and the directories the user added."""


class ApprovalDeniedError(ToolError):
    """The user or the approval policy refused the call."""


class SandboxDeniedError(ToolError):
    """The OS sandbox refused an operation (a write outside the workspace, a socket)."""


class StoreError(ArcanError):
    """The session store could not be read or written."""


class SessionNotFoundError(StoreError):
    """No session with that id exists in this project."""

    exit_code = 2


class SessionLockedError(StoreError):
    """Another live process is writing this session."""


class SchemaVersionError(StoreError):
    """A persisted record was written by a newer arcan than this one."""


class HarnessError(ArcanError):
    """A harness check, hook or sensor could not run."""


class ProtocolError(ArcanError):
    """An MCP server or ACP client broke its protocol."""
