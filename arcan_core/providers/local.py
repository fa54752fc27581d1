"""Any OpenAI-compatible local server: llama.cpp, Ollama, vLLM, LM Studio.

It speaks Chat Completions at the base URL (``--base-url``; a URL with no path gets ``/v1``).
With no URL, the provider probes the servers' default loopback ports with a quick
``GET /v1/models`` and uses the first that answers, in the order of ``PROBE_TARGETS``. With no
model configured it uses the first model the server lists. No key is needed; one configured in
``settings.api_key`` is sent as a bearer token (vLLM's ``--api-key``).

The servers' stream quirks are handled by ``ChatStreamMapper`` (see ``openai_chat.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import httpx

from arcan_core.errors import BadRequestError, NetworkError, StreamError
from arcan_core.providers.http import tls_verify_for
from arcan_core.providers.openai_chat import OpenAIChatProvider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from arcan_core.providers.base import ProviderRequest, StreamEvent

__all__ = ["PROBE_TARGETS", "LocalProvider", "normalize_base_url", "probe_local_servers"]

PROBE_TARGETS: tuple[tuple[str, int], ...] = (
    ("llama.cpp", 8080),
    ("Ollama", 11434),
    ("vLLM", 8000),
    ("LM Studio", 1234),
)
"""Default loopback ports of the well-known servers, in the order they are tried."""


def normalize_base_url(url: str) -> str:
    """Add ``/v1`` to a bare ``http://host:port``; leave any other path alone."""
    url = url.rstrip("/")
    return url if urlsplit(url).path else f"{url}/v1"


async def _answers(client: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await client.get(f"{url}/models")
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def probe_local_servers(
    targets: Sequence[tuple[str, int]] = PROBE_TARGETS,
    *,
    host: str = "127.0.0.1",
    timeout_s: float = 0.5,
) -> tuple[str, str] | None:
    """Return ``(server name, base URL)`` of the first target that answers, or ``None``.

    All targets are tried at once, so the probe costs one timeout at most.
    """
    urls = [f"http://{host}:{port}/v1" for _, port in targets]
    # Plain HTTP only: no CA bundle to load (see ``tls_verify_for``).
    async with httpx.AsyncClient(timeout=timeout_s, verify=tls_verify_for(urls[0])) as client:
        results = await asyncio.gather(*(_answers(client, url) for url in urls))
    for (server, _), url, ok in zip(targets, urls, results, strict=True):
        if ok:
            return server, url
    return None


class LocalProvider(OpenAIChatProvider):
    """A local OpenAI-compatible server (Chat Completions)."""

    name: ClassVar[str] = "local"
    label: ClassVar[str] = "the local model server"
    default_model: ClassVar[str] = "local"
    """A placeholder: the first model the server lists is used instead."""
    api_key_env: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    default_base_url: ClassVar[str | None] = None
    max_tokens_field: ClassVar[str] = "max_tokens"
    probe_targets: ClassVar[tuple[tuple[str, int], ...]] = PROBE_TARGETS

    _resolved_url: str | None = None
    _resolved_model: str | None = None
    server_name: str | None = None
    """Which server the probe found, for display (``None`` when the URL was given)."""

    @property
    def base_url(self) -> str:
        """The endpoint: the configured URL, or the one the probe found."""
        if self.settings.base_url:
            return normalize_base_url(self.settings.base_url)
        if self._resolved_url is None:
            raise NetworkError(
                "no local model server is known yet",
                hint="pass --base-url, or start llama.cpp, Ollama, vLLM or LM Studio",
            )
        return self._resolved_url

    async def ensure_endpoint(self) -> str:
        """Resolve the endpoint, probing the default ports when none is configured."""
        if self.settings.base_url or self._resolved_url:
            return self.base_url
        found = await probe_local_servers(self.probe_targets)
        if found is None:
            tried = ", ".join(f"{port} ({server})" for server, port in self.probe_targets)
            raise NetworkError(
                f"no local model server answers on 127.0.0.1 ports {tried}",
                hint="start one, or pass --base-url http://HOST:PORT/v1",
            )
        self.server_name, self._resolved_url = found
        return self._resolved_url

    async def _model_for(self, request: ProviderRequest) -> str:
        if request.model and request.model != self.default_model:
            return request.model
        if self._resolved_model is None:
            try:
                models = await self.list_models()
            except (BadRequestError, StreamError):
                # No usable model list (an older server): llama.cpp-style servers ignore the
                # name, so the placeholder is as good as any.
                models = []
            self._resolved_model = models[0] if models else request.model
        return self._resolved_model

    async def list_models(self) -> list[str]:
        """The server's models (after finding the server)."""
        await self.ensure_endpoint()
        return await super().list_models()

    def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        """Find the server once, then stream with the usual retries.

        The probe runs outside the retry loop: it has already tried every default port at
        once, so a failed probe retried four times only made the user wait 15 s for the same
        "no local model server" message.
        """
        return self._probe_then_stream(request)

    async def _probe_then_stream(
        self, request: ProviderRequest
    ) -> AsyncGenerator[StreamEvent, None]:
        await self.ensure_endpoint()
        events = super().stream(request)
        try:
            async for event in events:
                yield event
        finally:
            # Closing at once is what ends the HTTP stream when the consumer stops early.
            if isinstance(events, AsyncGenerator):
                await events.aclose()

    async def _attempt(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        await self.ensure_endpoint()
        async with contextlib.aclosing(super()._attempt(request)) as events:
            async for event in events:
                yield event
