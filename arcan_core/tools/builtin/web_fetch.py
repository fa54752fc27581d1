"""The ``web_fetch`` tool: GET one http(s) URL and return it as readable markdown or text.

Redirects are followed by hand, at most ``MAX_REDIRECTS``, and only to http(s) URLs: a redirect
to ``file:``, ``ftp:`` or anything else is refused. The body is read up to ``MAX_BYTES`` and the
whole fetch is bounded by a time limit; HTML is turned into markdown by ``markdownify``, and the
result is cut to what the model asked for with a note saying so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolError, ToolInputError
from arcan_core.tools.base import PreviewKind, Tool, ToolCategory, ToolContext, ToolResult
from arcan_core.tools.output import trim_middle

if TYPE_CHECKING:
    import httpx

__all__ = ["WebFetchInput", "WebFetchTool"]

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
DEFAULT_CHARS = 20_000
MAX_CHARS = 40_000
TIMEOUT_S = 30.0
_USER_AGENT = "arcan-web-fetch/1 (+coding agent)"
_SCHEMES = frozenset({"http", "https"})
_INVISIBLE = ["script", "style", "noscript", "template", "svg", "iframe", "head"]


class WebFetchInput(BaseModel):
    """Input of ``web_fetch``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    url: str = Field(description="An http:// or https:// URL.")
    max_chars: int | None = Field(
        default=None,
        ge=1000,
        le=MAX_CHARS,
        description=f"Most characters of the page to return. Default {DEFAULT_CHARS}.",
    )


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES or not parts.netloc:
        raise ToolInputError(
            f"web_fetch fetches http(s) URLs only, not {url!r}", hint="give a full http(s) URL"
        )
    return url


class WebFetchTool(Tool[WebFetchInput]):
    """Fetch a web page as markdown."""

    name: ClassVar[str] = "web_fetch"
    description: ClassVar[str] = (
        "Fetch an http(s) URL (GET) and return the page as markdown (HTML) or text. Follows up "
        "to 5 redirects on the same host (a redirect to another host is reported, not "
        "followed). Large pages are cut, with a note. Asks the user first unless in full-auto "
        "mode."
    )
    input_model: ClassVar[type[BaseModel]] = WebFetchInput
    read_only: ClassVar[bool] = True
    category: ClassVar[ToolCategory] = "fetch"

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        timeout_s: float = TIMEOUT_S,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        """Optionally use a custom transport, a shorter time limit or a smaller size cap."""
        self._transport = transport
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    def rule_subjects(self, args: WebFetchInput, ctx: ToolContext) -> tuple[str, ...]:
        """The URL."""
        del ctx
        return (args.url,)

    def preview(self, args: WebFetchInput, ctx: ToolContext) -> tuple[str, PreviewKind]:
        """The URL."""
        del ctx
        return f"GET {args.url}", "text"

    def summary(self, args: WebFetchInput, ctx: ToolContext) -> str:
        """The URL."""
        del ctx
        return f"fetch {args.url}"

    async def run(self, args: WebFetchInput, ctx: ToolContext) -> ToolResult:
        """Fetch, convert and cut."""
        url = _check_url(args.url)
        # httpx loads on the first fetch: with the providers on their own transport, no other
        # part of a run needs it, and importing it costs tens of milliseconds of every start-up.
        import httpx  # noqa: PLC0415

        async with httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
            headers={"User-Agent": _USER_AGENT, "Accept": "text/html, text/*;q=0.9, */*;q=0.5"},
            transport=self._transport,
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                status, headers, body, cut = await _get(client, url, self.max_bytes)
                location = headers.get("location")
                if status in (301, 302, 303, 307, 308) and location:
                    target = urljoin(url, location)
                    if urlsplit(target).scheme.lower() not in _SCHEMES:
                        raise ToolError(
                            f"refused a redirect to a non-http(s) URL: {target}",
                            hint="only http(s) pages can be fetched",
                        )
                    if urlsplit(target).netloc.lower() != urlsplit(url).netloc.lower():
                        # The approval (or an allow rule) named this host, not that one.
                        return ToolResult(
                            content=f"{url} redirects to another host: {target}\n"
                            "Call web_fetch with that URL to follow it."
                        )
                    url = target
                    continue
                break
            else:
                raise ToolError(f"more than {MAX_REDIRECTS} redirects; stopped at {url}")
        text = _to_text(body, headers.get("content-type", ""), url)
        limit = args.max_chars or DEFAULT_CHARS
        notes = []
        if cut:
            notes.append(
                f"[the page is larger than {self.max_bytes} bytes; only the start was read]"
            )
        if len(text) > limit:
            text = trim_middle(text, limit)
        del ctx
        head = f"{url} ({status})\n\n"
        return ToolResult(
            content=head + text + ("\n" + "\n".join(notes) if notes else ""), is_error=status >= 400
        )


async def _get(
    client: httpx.AsyncClient, url: str, max_bytes: int
) -> tuple[int, httpx.Headers, bytes, bool]:
    import httpx  # noqa: PLC0415 - loaded by ``run`` already

    try:
        async with client.stream("GET", url) as response:
            chunks: list[bytes] = []
            size = 0
            cut = False
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= max_bytes:
                    cut = True
                    break
            return response.status_code, response.headers, b"".join(chunks)[:max_bytes], cut
    except httpx.TimeoutException as error:
        raise ToolError(f"fetching {url} timed out") from error
    except httpx.HTTPError as error:
        raise ToolError(f"fetching {url} failed: {error}") from error


def _to_text(body: bytes, content_type: str, url: str) -> str:
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    charset = re.search(r"charset=([\w\-]+)", content_type)
    try:
        text = body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    if kind in ("text/html", "application/xhtml+xml") or (
        not kind and "<html" in text[:500].lower()
    ):
        # Imported here: the converter costs ~0.1 s to import and most sessions never fetch HTML.
        from bs4 import BeautifulSoup  # noqa: PLC0415
        from markdownify import MarkdownConverter  # noqa: PLC0415

        soup = BeautifulSoup(text, "html.parser")
        # markdownify keeps the text of tags it strips; a script's source is not page text.
        for tag in soup(_INVISIBLE):
            tag.decompose()
        markdown = MarkdownConverter(heading_style="ATX").convert_soup(soup)
        return re.sub(r"\n{3,}", "\n\n", markdown).strip()
    if (
        kind.startswith("text/")
        or kind in ("application/json", "application/xml", "")
        or kind.endswith(("+json", "+xml"))
    ):
        return text
    return f"[{url} is {kind or 'binary'} content ({len(body)} bytes); not shown as text]"
