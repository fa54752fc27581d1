"""web_fetch against a loopback HTTP server: markdown, redirects, caps, time limit."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, ClassVar

import pytest

from arcan_core.errors import ToolError, ToolInputError
from arcan_core.tools.base import ToolContext
from arcan_core.tools.builtin.web_fetch import WebFetchInput, WebFetchTool

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from arcan_core.protocol.events import EventMsg

PAGE = b"""<html><head><title>T</title><style>body{color:red}</style>
<script>alert('x')</script></head>
<body><h1>Title</h1><p>Some <b>bold</b> text and a <a href="/next">link</a>.</p>
<ul><li>one</li><li>two</li></ul></body></html>"""


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {
        "/page": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE),
        "/text": (200, {"Content-Type": "text/plain"}, b"plain text body"),
        "/json": (200, {"Content-Type": "application/json"}, b'{"a": 1}'),
        "/image": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n\x00\x00"),
        "/missing": (404, {"Content-Type": "text/plain"}, b"not here"),
        "/hop": (302, {"Location": "/page"}, b""),
        "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/big": (200, {"Content-Type": "text/plain"}, b"x" * 300_000),
        "/elsewhere": (302, {"Location": "http://other.invalid/page"}, b""),
    }

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1.5)  # in the server's thread: the client must give up first
        status, headers, body = self.routes.get(self.path, (200, {}, b"slow"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        del format, args


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _drop(msg: EventMsg, /) -> None:
    del msg


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path, call_id="w", emit=_drop)


async def test_html_becomes_markdown_without_scripts(base_url: str, ctx: ToolContext) -> None:
    result = await WebFetchTool().run(WebFetchInput(url=f"{base_url}/page"), ctx)
    assert result.content.startswith(f"{base_url}/page (200)")
    assert "# Title" in result.content
    assert "**bold**" in result.content
    assert "[link](/next)" in result.content
    assert "* one" in result.content or "- one" in result.content
    assert "alert" not in result.content
    assert "color:red" not in result.content
    assert not result.is_error


async def test_text_json_and_binary(base_url: str, ctx: ToolContext) -> None:
    tool = WebFetchTool()
    assert "plain text body" in (await tool.run(WebFetchInput(url=f"{base_url}/text"), ctx)).content
    assert '{"a": 1}' in (await tool.run(WebFetchInput(url=f"{base_url}/json"), ctx)).content
    image = await tool.run(WebFetchInput(url=f"{base_url}/image"), ctx)
    assert "image/png content" in image.content
    missing = await tool.run(WebFetchInput(url=f"{base_url}/missing"), ctx)
    assert missing.is_error
    assert "(404)" in missing.content


async def test_redirects_are_followed_to_http_only(base_url: str, ctx: ToolContext) -> None:
    tool = WebFetchTool()
    hop = await tool.run(WebFetchInput(url=f"{base_url}/hop"), ctx)
    assert hop.content.startswith(f"{base_url}/page (200)")
    with pytest.raises(ToolError, match="non-http"):
        await tool.run(WebFetchInput(url=f"{base_url}/to-file"), ctx)
    with pytest.raises(ToolError, match="more than 5 redirects"):
        await tool.run(WebFetchInput(url=f"{base_url}/loop"), ctx)
    elsewhere = await tool.run(WebFetchInput(url=f"{base_url}/elsewhere"), ctx)
    assert "redirects to another host: http://other.invalid/page" in elsewhere.content
    assert not elsewhere.is_error


async def test_only_http_urls_are_fetched(ctx: ToolContext) -> None:
    for url in ("file:///etc/passwd", "ftp://x.example/", "javascript:alert(1)", "/relative"):
        with pytest.raises(ToolInputError, match="http"):
            await WebFetchTool().run(WebFetchInput(url=url), ctx)


async def test_size_and_length_are_capped_with_notes(base_url: str, ctx: ToolContext) -> None:
    result = await WebFetchTool(max_bytes=100_000).run(
        WebFetchInput(url=f"{base_url}/big", max_chars=5000), ctx
    )
    assert "only the start was read" in result.content
    assert "characters elided" in result.content
    assert len(result.content) < 6000


async def test_a_slow_server_times_out(base_url: str, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="timed out"):
        await WebFetchTool(timeout_s=0.3).run(WebFetchInput(url=f"{base_url}/slow"), ctx)


async def test_a_refused_connection_is_a_tool_error(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="failed"):
        await WebFetchTool().run(WebFetchInput(url="http://127.0.0.1:9/"), ctx)
