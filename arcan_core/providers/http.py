"""The shared HTTP layer of every network provider: client, SSE stream, error mapping, retries.

One ``httpx.AsyncClient`` per provider keeps connections alive between model steps. Its timeouts
are the connect timeout and the read timeout, which httpx applies to every read of the socket, so
it bounds the silence between two chunks of a stream rather than the length of the whole reply.

``HttpProvider.stream()`` runs ``_attempt()`` (one request, mapped to stream events) inside
``with_retries``: a retryable failure (connection error, 408, 409, 429, 5xx, 529, a mid-stream
overload) is retried with exponential backoff and jitter, honouring ``retry-after-ms`` and
``retry-after``, but only while nothing but usage has been yielded; each retry is announced with a
``RetryNotice``. After output has reached the consumer, the failure is raised as it is, so the
agent core can keep the partial reply and mark it incomplete.

Keys never leave this module in text: errors are built from status codes and the provider's own
error body, and ``redact_headers`` masks credentials in the debug log.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import re
import ssl
import time
import urllib.request
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias

import httpx

from arcan_core.errors import (
    AuthError,
    BadRequestError,
    ContextTooLongError,
    NetworkError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamError,
)
from arcan_core.providers.base import (
    Provider,
    ProviderRequest,
    ProviderSettings,
    RetryNotice,
    StreamEvent,
    UsageReport,
)
from arcan_core.providers.coalesce import coalesce
from arcan_core.providers.sse import SSEDecoder, SSEEvent

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Mapping

__all__ = [
    "HttpProvider",
    "RetryPolicy",
    "Sleep",
    "StreamMapper",
    "error_from_body",
    "error_from_response",
    "iter_sse_batches",
    "parse_retry_after",
    "redact_headers",
    "tls_verify_for",
    "truncated",
    "with_retries",
]

logger = logging.getLogger("arcan.providers")

Sleep: TypeAlias = Callable[[float], Awaitable[None]]
"""An injectable ``asyncio.sleep``: tests pass one that records delays and returns at once."""

_SECRET_HEADERS = frozenset({"x-api-key", "authorization", "api-key", "cookie", "set-cookie"})


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return ``headers`` with every credential replaced by ``***`` (for logs and dumps)."""
    return {
        name: "***" if name.lower() in _SECRET_HEADERS else value for name, value in headers.items()
    }


class StreamMapper(Protocol):
    """Maps one response's SSE events to stream events (one instance per response)."""

    def feed(self, sse: SSEEvent, /) -> list[StreamEvent]:
        """Map one SSE event; raise ``ProviderError`` for an error the stream reports."""

    def close(self) -> list[StreamEvent]:
        """The body ended: return the last events, or raise if the reply was cut short."""


def truncated(ctx: ErrorContext) -> NetworkError:
    """The error for a stream that ended before the API's end-of-reply event."""
    return NetworkError(
        f"{ctx.provider} ended the stream before the reply was complete",
        hint="retry; the partial reply was kept",
    )


_NOT_A_STREAM: dict[str, str] = {
    "text/html": "a web page",
    "application/json": "a whole JSON document",
}
"""Media types of a 200 answer that cannot be the event stream asked for, and how to name them.

A base URL that points at a web site, a captive portal or a gateway that ignores ``stream`` gets
one of these; read as SSE it is an empty stream, which looked like a cut connection and was
retried for 15 s before a misleading "partial reply" message. Other types are let through: some
compatible servers label a real stream loosely."""
_BODY_PEEK = 2048


def _media_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower()


def _gist(raw: bytes) -> str:
    """What a non-stream body says, in one short line: an error message if it has one."""
    text = raw.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message:
            text = message
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        text = title.group(1)
    elif text.lstrip().startswith("<"):
        text = re.sub(r"<[^>]*>", " ", text)  # an HTML page without a title: its words
    flat = " ".join(text.split())
    return flat if len(flat) <= 120 else flat[:119] + "…"


def not_a_stream(ctx: ErrorContext, url: str, kind: str, raw: bytes) -> StreamError:
    """The error for a 200 answer that is ``kind`` (a web page...) instead of an event stream."""
    gist = _gist(raw)
    return StreamError(
        f"{ctx.provider} answered {url} with {kind}, not an event stream"
        + (f": {gist}" if gist else ""),
        hint="check --base-url (or base_url in the config): it must be the API's address, "
        "and a proxy in between must pass streamed replies through",
    )


async def _peek(response: httpx.Response) -> bytes:
    """The first ``_BODY_PEEK`` bytes of the body, without reading a huge one whole."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _BODY_PEEK:
            break
    return data[:_BODY_PEEK]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter.

    Attempt ``n`` (0-based) waits ``min(max_delay_s, base_delay_s * 2**n)`` scaled by a random
    factor in ``[1 - jitter, 1 + jitter]``, unless the provider said how long to wait; a wait
    longer than ``max_retry_after_s`` is not worth holding the user for, so it is not retried.
    """

    max_retries: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 60.0
    jitter: float = 0.25

    def delay_s(self, failures: int, retry_after_s: float | None, unit: float) -> float | None:
        """Return the wait before the next attempt, or ``None`` to give up.

        Args:
            failures: the failures before this one (0 when the first attempt just failed).
            retry_after_s: what the provider asked for, if anything.
            unit: a random number in ``[0, 1)`` for the jitter.
        """
        if failures >= self.max_retries:
            return None
        if retry_after_s is not None:
            return retry_after_s if retry_after_s <= self.max_retry_after_s else None
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0**failures)
        return backoff * (1 - self.jitter + 2 * self.jitter * unit)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Read ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date) in seconds."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        with contextlib.suppress(ValueError):
            return max(0.0, float(raw_ms) / 1000)
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def _tokens(text: str) -> int:
    return int(text.replace(",", ""))


def _k(tokens: int) -> str:
    return f"{tokens / 1000:.0f}k" if tokens >= 1000 else str(tokens)


_CONTEXT_PATTERNS = (
    # Anthropic's phrasing, e.g. prompt is too long, 212345 tokens > 200000 maximum.
    (re.compile(r"(\d[\d,]*)\s+tokens?\s*>\s*(\d[\d,]*)"), False),
    # OpenAI's phrasing, e.g. maximum context length is 128000 tokens ... resulted in 130532 tokens.
    (
        re.compile(r"maximum context length is (\d[\d,]*) tokens.*?(\d[\d,]*) tokens", re.DOTALL),
        True,
    ),
)
_CONTEXT_MARKERS = (
    "prompt is too long",
    "context length",
    "context_length_exceeded",
    "too many tokens",
)


def _context_error(message: str, status: int | None) -> ContextTooLongError | None:
    lowered = message.lower()
    if not any(marker in lowered for marker in _CONTEXT_MARKERS):
        return None
    text = "the prompt is larger than the model's context window"
    for pattern, limit_first in _CONTEXT_PATTERNS:
        found = pattern.search(message)
        if found:
            first, second = _tokens(found.group(1)), _tokens(found.group(2))
            prompt, limit = (second, first) if limit_first else (first, second)
            text = f"the prompt is {_k(prompt)} tokens; the model takes {_k(limit)}"
            break
    return ContextTooLongError(
        text,
        hint="compact the conversation (/compact) or start a new session",
        status=status,
    )


_STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthError,
    403: AuthError,
    404: BadRequestError,
    408: ServerError,
    409: ServerError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
    503: OverloadedError,
    529: OverloadedError,
}

# Error ``type``/``code`` strings in a body that decide the class regardless of the status
# (Anthropic's mid-stream ``error`` events have no status at all).
_TYPE_ERRORS: dict[str, type[ProviderError]] = {
    "overloaded_error": OverloadedError,
    "rate_limit_error": RateLimitError,
    "rate_limit_exceeded": RateLimitError,
    "authentication_error": AuthError,
    "permission_error": AuthError,
    "invalid_api_key": AuthError,
    "api_error": ServerError,
    "server_error": ServerError,
    "internal_error": ServerError,
    "timeout_error": ServerError,
    "invalid_request_error": BadRequestError,
    "not_found_error": BadRequestError,
    "request_too_large": BadRequestError,
    "insufficient_quota": BadRequestError,
}


_GENERIC_KINDS = frozenset(
    {"api_error", "server_error", "internal_error", "invalid_request_error", "not_found_error"}
)
"""Body types too vague to override the status (a 503 ``api_error`` is still an overload)."""


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """What an error message may say about where it came from (never a key)."""

    provider: str
    api_key_env: str | None = None


_NOT_FOUND_HINT = (
    "check the model name (arcan models lists them) and the base URL (an OpenAI-style one "
    "usually ends in /v1)"
)
"""404 and 405 mean an unknown model or, as often, a base URL that misses the API's path."""


def _hint_for(
    cls: type[ProviderError], ctx: ErrorContext, kind: str | None, status: int | None = None
) -> str:
    if status in (404, 405):
        return _NOT_FOUND_HINT
    if cls is AuthError:
        if ctx.api_key_env:
            return f"check {ctx.api_key_env}: it must hold a valid key with access to this model"
        return "check the server's credentials"
    if kind == "insufficient_quota":
        return "the account has no credit left; check billing with the provider"
    hints: dict[type[ProviderError], str] = {
        RateLimitError: "wait a minute and retry, or lower the request rate",
        OverloadedError: "the provider is overloaded; retry in a moment",
        ServerError: "retry; if it persists, check the provider's status page",
        BadRequestError: "check the model name (arcan models lists them) and the settings",
    }
    return hints.get(cls, "retry, or run with --debug for details")


def error_from_body(
    body: Any, *, ctx: ErrorContext, status: int | None = None, retry_after_s: float | None = None
) -> ProviderError:
    """Build the typed error for an error body (Anthropic or OpenAI shape) and status."""
    kind: str | None = None
    message: str | None = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            code = inner.get("code")
            kind_value = inner.get("type") if inner.get("type") != "error" else None
            kind = str(code) if isinstance(code, str) and code in _TYPE_ERRORS else kind_value
            raw_message = inner.get("message")
            message = str(raw_message) if raw_message else None
        elif isinstance(inner, str):
            message = inner
    if message is None and isinstance(body, str) and body.strip():
        message = body.strip()[:300]
    if message:
        too_long = _context_error(message, status)
        if too_long is not None:
            return too_long
    cls = _TYPE_ERRORS.get(kind or "") if kind else None
    if cls is None or (kind in _GENERIC_KINDS and status in _STATUS_ERRORS):
        cls = _STATUS_ERRORS.get(status or 0) or (
            ServerError if (status or 0) >= 500 or status is None else BadRequestError
        )
    where = f"{ctx.provider} returned HTTP {status}" if status else f"{ctx.provider} reported"
    text = f"{where}: {message}" if message else where
    if kind and kind not in text:
        text = f"{text} ({kind})"
    return cls(
        text, hint=_hint_for(cls, ctx, kind, status), status=status, retry_after_s=retry_after_s
    )


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, ctx: ErrorContext
) -> ProviderError:
    """Build the typed error for an HTTP error response."""
    text = body.decode("utf-8", errors="replace")
    parsed: Any
    try:
        parsed = json.loads(text)
    except ValueError:
        # Not the API's JSON. A proxy's or web server's HTML page (a wrong base URL gets a 404
        # page of several kilobytes) is named by its title or first words, not its markup;
        # plain text is kept whole, as it may say "context length exceeded".
        parsed = _gist(body) if text.lstrip().startswith("<") else text
    return error_from_body(parsed, ctx=ctx, status=status, retry_after_s=parse_retry_after(headers))


def _transport_error(
    error: httpx.TransportError | httpx.InvalidURL, ctx: ErrorContext, read_timeout: float
) -> ProviderError:
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        # A malformed endpoint fails the same way every time: not worth a retry.
        return BadRequestError(
            f"the endpoint for {ctx.provider} is not a valid http(s) URL: {error}",
            hint="pass --base-url http://HOST:PORT/... (or fix base_url in the config)",
        )
    if isinstance(error, httpx.ReadTimeout):
        return NetworkError(
            f"{ctx.provider} sent nothing for {read_timeout:g} s",
            hint="the provider stalled; retry, or raise the read timeout if replies are slow",
        )
    if isinstance(error, httpx.ConnectTimeout | httpx.ConnectError):
        return NetworkError(
            f"cannot connect to {ctx.provider}: {error}",
            hint="check the network and the base URL",
        )
    if isinstance(error, httpx.RemoteProtocolError):
        return NetworkError(
            f"{ctx.provider} closed the connection mid-reply",
            hint="retry; the partial reply was kept",
        )
    return NetworkError(f"network error talking to {ctx.provider}: {error}", hint="retry")


async def iter_sse_batches(
    response: httpx.Response, *, ctx: ErrorContext, read_timeout_s: float
) -> AsyncGenerator[list[SSEEvent], None]:
    """Yield the SSE events of ``response`` read together, list by list, as bytes arrive."""
    decoder = SSEDecoder()
    try:
        async for chunk in response.aiter_bytes():
            events = decoder.feed(chunk)
            if events:
                yield events
    except httpx.TransportError as error:
        raise _transport_error(error, ctx, read_timeout_s) from error
    except httpx.DecodingError as error:
        raise StreamError(
            f"{ctx.provider} sent a body that could not be decoded: {error}",
            hint="retry; if it persists, check proxies between arcan and the provider",
        ) from error
    closing = decoder.close()
    if closing:
        yield closing


_RETRY_LABELS: dict[type[ProviderError], str] = {
    OverloadedError: "overloaded",
    RateLimitError: "rate limited",
    NetworkError: "network error",
}


def _retry_reason(error: ProviderError) -> str:
    label = _RETRY_LABELS.get(type(error))
    if label:
        return label
    if error.status:
        return f"HTTP {error.status}"
    return "server error" if isinstance(error, ServerError) else error.message


async def with_retries(
    attempt: Callable[[], AsyncGenerator[StreamEvent, None]],
    *,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    rand: Callable[[], float] = random.random,
    should_retry: Callable[[ProviderError], bool] = lambda error: error.retryable,
) -> AsyncGenerator[StreamEvent, None]:
    """Run ``attempt()`` until it succeeds, retrying retryable failures before any output."""
    failures = 0
    while True:
        produced = False
        try:
            async with contextlib.aclosing(attempt()) as events:
                async for event in events:
                    if not produced and not isinstance(event, UsageReport | RetryNotice):
                        produced = True
                    yield event
            return
        except ProviderError as error:
            if produced or not should_retry(error):
                raise
            delay = policy.delay_s(failures, error.retry_after_s, rand())
            if delay is None:
                raise
            failed = error
        failures += 1
        logger.info("retrying in %.1f s after: %s", delay, failed.message)
        yield RetryNotice(attempt=failures, delay_s=delay, reason=_retry_reason(failed))
        await sleep(delay)


def tls_verify_for(url: str | None) -> ssl.SSLContext | bool:
    """Return what an ``httpx`` client talking to ``url`` should verify TLS with.

    httpx builds its TLS context when the client is made, loading every CA of ``certifi``
    (about 25 ms), even when the client will only ever speak plain ``http://`` to a local server.
    For a plain-HTTP URL with no proxy configured, this returns a client context that trusts no
    CA at all: nothing to load, and should a request ever reach an ``https://`` URL anyway, its
    handshake fails verification (fail closed, never unverified). Anything else gets ``True``,
    httpx's normal verification.
    """
    proxied = any(scheme != "no" for scheme in urllib.request.getproxies())
    if url is None or not url.lower().startswith("http://") or proxied:
        # A proxy (possibly an https:// one) would need the real CA bundle.
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class HttpProvider(Provider):
    """A provider that speaks HTTP + SSE: owns the client, the retry loop and error mapping.

    Subclasses implement ``_attempt`` (one request, mapped to stream events) and ``_headers``.
    ``sleep`` and ``rand`` are injectable so tests never wait on the wall clock.
    """

    label: ClassVar[str] = "the provider"
    """How messages name this provider ("Anthropic")."""

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(settings)
        self.retry_policy = RetryPolicy(max_retries=settings.max_retries)
        self._sleep = sleep
        self._rand = rand
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self.error_context = ErrorContext(provider=self.label, api_key_env=self.api_key_env)

    @property
    def base_url(self) -> str:
        """The endpoint in use (settings, else the class default)."""
        url = self.settings.base_url or self.default_base_url
        if not url:
            raise NetworkError(
                f"no endpoint configured for {self.label}",
                hint="pass --base-url or set base_url in the config",
            )
        return url.rstrip("/")

    @property
    def client(self) -> httpx.AsyncClient:
        """The keep-alive client, created on first use."""
        if self._client is None:
            # Imported here: the transport brings h11, which only a request needs.
            from arcan_core.providers.transport import transport_for  # noqa: PLC0415

            connect = self.settings.connect_timeout_s
            limits = httpx.Limits(max_keepalive_connections=4, keepalive_expiry=60)
            # An injected transport (tests) wins; else arcan's own for direct connections, or
            # None (httpx's own) behind a proxy. ``verify`` only reaches httpx's own transport:
            # arcan's makes its TLS context at the first https connect, with httpx's defaults.
            transport = self._transport or transport_for(
                limits=limits, read_batch_s=self.settings.read_batch_s
            )
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    connect=connect, read=self.settings.read_timeout_s, write=connect, pool=connect
                ),
                limits=limits,
                transport=transport,
                follow_redirects=False,
                verify=(
                    True
                    if transport is not None
                    else tls_verify_for(self.settings.base_url or self.default_base_url)
                ),
            )
        return self._client

    def require_key(self) -> str:
        """Return the API key, or raise ``AuthError`` saying which variable to set."""
        key = self.settings.api_key
        if not key:
            where = self.api_key_env or "an API key"
            raise AuthError(
                f"no API key for {self.label}",
                hint=f"set {where} (or pick another provider with --provider)",
            )
        return key

    @abstractmethod
    def _headers(self) -> dict[str, str]:
        """Request headers, credentials included."""

    @abstractmethod
    def _attempt(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        """One request, mapped to stream events; raise ``ProviderError`` on failure."""

    def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        """Stream one model step, retrying before any output (see the module docstring)."""
        return with_retries(
            lambda: self._attempt(request),
            policy=self.retry_policy,
            sleep=self._sleep,
            rand=self._rand,
        )

    @contextlib.asynccontextmanager
    async def _open(self, url: str, body: dict[str, Any]) -> AsyncIterator[httpx.Response]:
        """POST ``body`` and yield the streaming response, or raise the mapped error."""
        headers = self._headers()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("POST %s headers=%s", url, redact_headers(headers))
        try:
            async with self.client.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code >= 400:
                    raw = await response.aread()
                    raise error_from_response(
                        response.status_code, response.headers, raw, ctx=self.error_context
                    )
                kind = _NOT_A_STREAM.get(_media_type(response))
                if kind is not None:
                    raise not_a_stream(self.error_context, url, kind, await _peek(response))
                yield response
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise self._transport_error(error) from error

    def _transport_error(self, error: httpx.TransportError | httpx.InvalidURL) -> ProviderError:
        return _transport_error(error, self.error_context, self.settings.read_timeout_s)

    def _events(self, response: httpx.Response) -> AsyncGenerator[list[SSEEvent], None]:
        return iter_sse_batches(
            response, ctx=self.error_context, read_timeout_s=self.settings.read_timeout_s
        )

    async def _mapped(
        self, response: httpx.Response, mapper: StreamMapper
    ) -> AsyncGenerator[StreamEvent, None]:
        """Yield ``mapper``'s events for the SSE body of ``response``, then its closing ones.

        The events of the SSE events read together are coalesced (``coalesce``): a run of text
        fragments that arrived in one read goes on as one. When the mapper fails part-way
        through a read (an error event mid-stream), what it mapped before goes out first, as it
        would have one by one.
        """
        async with contextlib.aclosing(self._events(response)) as batches:
            async for batch in batches:
                mapped: list[StreamEvent] = []
                failure: ProviderError | None = None
                for sse in batch:
                    try:
                        mapped.extend(self._feed(mapper, sse))
                    except ProviderError as error:
                        failure = error
                        break
                for event in coalesce(mapped):
                    yield event
                if failure is not None:
                    raise failure
        for event in mapper.close():
            yield event

    def _feed(self, mapper: StreamMapper, sse: SSEEvent) -> list[StreamEvent]:
        try:
            return mapper.feed(sse)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            # Valid JSON of the wrong shape: the endpoint does not speak this API (or changed it).
            raise StreamError(
                f"{self.label} sent a {sse.event!r} event of unexpected shape",
                hint="check that the base URL points at the API this provider speaks",
            ) from error

    def _models_url(self) -> str:
        return f"{self.base_url}/models"

    async def list_models(self) -> list[str]:
        """``GET /models`` and return the ids, in the order the provider lists them."""
        try:
            response = await self.client.get(self._models_url(), headers=self._headers())
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise self._transport_error(error) from error
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code, response.headers, response.content, ctx=self.error_context
            )
        try:
            data = response.json()
            return [str(item["id"]) for item in data["data"]]
        except (ValueError, KeyError, TypeError) as error:
            raise StreamError(
                f"{self.label} answered the model list with an unexpected shape",
                hint="check the base URL points at an OpenAI- or Anthropic-style API",
            ) from error

    async def aclose(self) -> None:
        """Close the keep-alive connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def parse_json(data: str, ctx: ErrorContext) -> Any:
    """Parse one SSE data payload, raising ``StreamError`` on malformed JSON."""
    try:
        return json.loads(data)
    except ValueError as error:
        raise StreamError(
            f"{ctx.provider} sent malformed JSON in the stream",
            hint="retry; if it persists, the endpoint may not speak this API",
        ) from error
