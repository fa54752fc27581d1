"""arcan's asyncio + h11 transport for httpx, over real loopback sockets (plain and TLS)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import ssl
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import h11
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcan_core.errors import ConfigError, NetworkError
from arcan_core.protocol.messages import Message, TextBlock
from arcan_core.providers.anthropic import AnthropicProvider
from arcan_core.providers.base import ProviderRequest, ProviderSettings, TextChunk
from arcan_core.providers.transport import (
    TRANSPORT_ENV,
    AsyncioTransport,
    _ChunkedFraming,
    _parse_head,
    _request_head,
    transport_for,
)
from tests.loopback import LoopbackModelServer, Reply, ThreadedLoopback, run_stream, run_until_error

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

REQUEST = ProviderRequest(
    model="loopback-model",
    system="",
    messages=(Message(role="user", content=(TextBlock(text="hi"),)),),
)


class RawServer:
    """A loopback server whose every connection runs ``handler``; counts connections."""

    def __init__(
        self,
        handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.closed = asyncio.Event()
        """Set each time a connection handler ends (the server side closed it)."""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
            self._tasks.discard(task)
            self._writers.discard(writer)
            self.closed.set()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        # Aborting ends each handler through its own EOF path (cancelling them makes asyncio
        # log the cancellation as an error).
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}/v1/x"


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """Read one request: its first line, headers and body (content-length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    first, *lines = head[:-4].split(b"\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(b":") for line in lines)
    }
    if headers.get(b"transfer-encoding") == b"chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return first, headers, body
            body += chunk[:-2]
    return first, headers, await reader.readexactly(int(headers.get(b"content-length", b"0")))


def fixed(body: bytes, *, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def chunked(*parts: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
    return head + b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def answer_each(response: bytes, *, then_close: bool = False) -> Any:
    """A handler answering every request on a connection with ``response``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(response)
            await writer.drain()
            if then_close:
                return

    return handler


@contextlib.asynccontextmanager
async def client(
    transport: AsyncioTransport | None = None, **timeouts: float
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=transport or AsyncioTransport(),
        timeout=httpx.Timeout(5.0, **timeouts),
    ) as http:
        yield http


# -- bodies and keep-alive -------------------------------------------------------------------


async def test_keep_alive_reuses_the_connection_for_the_next_request() -> None:
    async with RawServer(answer_each(fixed(b"one"))) as server, client() as http:
        first = await http.post(server.url(), json={"n": 1})
        second = await http.post(server.url(), json={"n": 2})
    assert (first.content, second.content) == (b"one", b"one")
    assert server.connections == 1


async def test_concurrent_requests_get_their_own_connections_then_share_the_pool() -> None:
    both_arrived = asyncio.Barrier(2)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = True
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            if first:  # the first requests answer only once both are in flight
                await both_arrived.wait()
                first = False
            writer.write(fixed(b"ok"))
            await writer.drain()

    async with RawServer(handler) as server, client() as http:
        pair = await asyncio.gather(http.get(server.url()), http.get(server.url()))
        again = await asyncio.gather(http.get(server.url()), http.get(server.url()))
    assert [response.content for response in (*pair, *again)] == [b"ok"] * 4
    assert server.connections == 2


async def test_a_consumer_stopping_at_the_last_bytes_leaves_the_connection_reusable() -> None:
    async with RawServer(answer_each(chunked(b"only event"))) as server, client() as http:
        async with http.stream("GET", server.url()) as response:
            async for chunk in response.aiter_raw():
                assert chunk == b"only event"
                break  # the final event: the consumer never asks for the end
        await http.get(server.url())
    assert server.connections == 1


async def test_a_tool_round_trip_makes_two_requests_on_one_connection() -> None:
    async with LoopbackModelServer() as server:
        server.enqueue(Reply(text="first"), Reply(text="second"))
        settings = ProviderSettings(name="anthropic", base_url=server.url, api_key="k")
        provider = AnthropicProvider(settings)
        try:
            assert isinstance(provider.client._transport, AsyncioTransport)
            _, first = await run_stream(provider, REQUEST)
            _, second = await run_stream(provider, REQUEST)
        finally:
            await provider.aclose()
    assert [first.text, second.text] == ["first", "second"]
    assert [request.connection for request in server.requests] == [1, 1]


def test_a_client_used_under_a_new_event_loop_reconnects() -> None:
    with ThreadedLoopback() as server:
        server.enqueue(Reply(text="first loop"), Reply(text="second loop"))
        settings = ProviderSettings(name="anthropic", base_url=server.url, api_key="k")
        provider = AnthropicProvider(settings)
        _, first = asyncio.run(run_stream(provider, REQUEST))
        _, second = asyncio.run(run_stream(provider, REQUEST))  # the first loop is closed
        asyncio.run(provider.aclose())
    assert [first.text, second.text] == ["first loop", "second loop"]
    assert [request.connection for request in server.requests] == [1, 2]


async def test_content_length_and_chunked_bodies_arrive_whole() -> None:
    big = bytes(range(256)) * 2000  # larger than a socket read and than the flow-control mark
    async with (
        RawServer(answer_each(fixed(big, extra=b"x-kind: fixed\r\n"))) as fixed_server,
        RawServer(answer_each(chunked(b"alpha ", b"beta " * 50_000, b"gamma"))) as chunk_server,
        client() as http,
    ):
        by_length = await http.get(fixed_server.url())
        by_chunks = await http.get(chunk_server.url())
        again = await http.get(chunk_server.url())
    assert by_length.content == big
    assert by_length.headers["x-kind"] == "fixed"
    assert by_length.http_version == "HTTP/1.1"
    assert by_chunks.content == b"alpha " + b"beta " * 50_000 + b"gamma"
    assert again.content == by_chunks.content
    assert chunk_server.connections == 1


async def test_a_streamed_request_body_is_sent_chunked() -> None:
    received: list[tuple[dict[bytes, bytes], bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, headers, body = await read_request(reader)
        received.append((headers, body))
        writer.write(fixed(b"ok"))
        await writer.drain()

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"x" * 100_000):
            yield part

    async with RawServer(handler) as server, client() as http:
        response = await http.post(server.url(), content=parts())
    assert response.text == "ok"
    headers, body = received[0]
    assert headers[b"transfer-encoding"] == b"chunked"
    assert body == b"one two " + b"x" * 100_000


async def test_the_body_streams_each_chunk_before_the_rest_is_sent() -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await release.wait()  # the rest only after the client has seen the first chunk
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        await writer.drain()

    async with (
        RawServer(handler) as server,
        client() as http,
        http.stream("GET", server.url()) as response,
    ):
        chunks = response.aiter_raw()
        first = await asyncio.wait_for(anext(chunks), 5)
        release.set()
        rest = [chunk async for chunk in chunks]
    assert first == b"first"
    assert rest == [b"second"]


def paced(gaps: list[float]) -> Any:
    """A handler streaming one chunked digit after each gap (a model streaming deltas)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        await writer.drain()
        for index, gap in enumerate(gaps):
            await asyncio.sleep(gap)
            writer.write(b"1\r\n%d\r\n" % (index % 10))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return handler


async def _pieces(gaps: list[float], batch_s: float) -> list[bytes]:
    async with (
        RawServer(paced(gaps)) as server,
        client(AsyncioTransport(read_batch_s=batch_s), read=30.0) as http,
        http.stream("GET", server.url()) as response,
    ):
        return [chunk async for chunk in response.aiter_raw()]


async def test_a_batching_transport_reads_a_long_paced_stream_in_few_pieces() -> None:
    """Past its first quarter second, what arrives during a hold comes in one read."""
    # 0.3 s of slow deltas (each read at once), then ten quick ones while a hold lasts.
    gaps = [0.1, 0.1, 0.1, *([0.01] * 10)]
    batched = await _pieces(gaps, 3.0)
    assert b"".join(batched) == b"0123456789012"
    assert len(batched) <= 5
    unbatched = await _pieces(gaps, 0.0)
    assert b"".join(unbatched) == b"0123456789012"
    assert len(unbatched) > 8


async def test_a_short_stream_is_never_held() -> None:
    """A reply that ends within the first quarter second is read as it comes, without delay."""
    async with asyncio.timeout(5):  # a hold here would last 15 s (half the read timeout)
        pieces = await _pieces([0.005] * 10, 60.0)
    assert b"".join(pieces) == b"0123456789"


async def test_a_hold_never_outlasts_half_the_read_timeout() -> None:
    """A batch longer than the read timeout is clamped: a stream that keeps coming is not cut."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"1\r\nb\r\n0\r\n\r\n")
        await writer.drain()

    async with (
        RawServer(handler) as server,
        client(AsyncioTransport(read_batch_s=60.0), read=0.5) as http,
    ):
        response = await http.get(server.url())
    assert response.content == b"ab"


async def test_connection_close_is_honoured() -> None:
    async with (
        RawServer(answer_each(fixed(b"bye", extra=b"connection: close\r\n"))) as server,
        client() as http,
    ):
        await http.get(server.url())
        await http.get(server.url())
    assert server.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async with RawServer(answer_each(fixed(b"once"), then_close=True)) as server, client() as http:
        await http.get(server.url())
        await server.closed.wait()  # the server hung up the idle kept-alive connection
        server.closed.clear()
        response = await http.get(server.url())
    assert response.content == b"once"
    assert server.connections == 2


async def test_a_kept_alive_connection_dropped_on_the_next_request_is_retried_once() -> None:
    """The server takes the second request on the old connection and hangs up unanswered."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(fixed(b"first"))
        await writer.drain()
        if server.connections == 1:
            await read_request(reader)  # the reused connection: closed without an answer

    async with RawServer(handler) as server, client() as http:
        await http.post(server.url(), json={"n": 1})
        response = await http.post(server.url(), json={"n": 2})
    assert response.content == b"first"
    assert server.connections == 2


async def test_a_pool_with_no_free_connection_times_out() -> None:
    stalled = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        await writer.drain()
        await stalled.wait()

    transport = AsyncioTransport(limits=httpx.Limits(max_connections=1))
    async with RawServer(handler) as server, client(transport, pool=0.05) as http:
        async with http.stream("GET", server.url()):
            with pytest.raises(httpx.PoolTimeout):
                await http.get(server.url())
        stalled.set()


async def test_bodies_framed_by_close_head_and_204() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            first, _, _ = await read_request(reader)
            if first.startswith(b"HEAD"):  # a length, but no body follows a HEAD
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 999\r\n\r\n")
            elif b"/none" in first:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:  # neither length nor chunks: the body runs until the server closes
                writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
                await writer.drain()
                return
            await writer.drain()

    async with RawServer(handler) as server, client() as http:
        head = await http.head(server.url())
        empty = await http.get(server.url().replace("/x", "/none"))
        whole = await http.get(server.url())
        again = await http.head(server.url())
    assert (head.content, empty.status_code, empty.content) == (b"", 204, b"")
    assert whole.content == b"until the end"
    assert again.status_code == 200
    assert server.connections == 2  # HEAD and 204 kept the connection; the closed body did not


async def test_bytes_past_the_declared_length_retire_the_connection() -> None:
    async with (
        RawServer(answer_each(fixed(b"four") + b"junk")) as server,
        client() as http,
    ):
        first = await http.get(server.url())
        second = await http.get(server.url())
    assert (first.content, second.content) == (b"four", b"four")
    assert server.connections == 2


def _chunked_wire(
    payloads: list[bytes], extensions: list[bytes], trailers: list[bytes], extra: bytes
) -> bytes:
    wire = b""
    for index, payload in enumerate(payloads):
        extension = extensions[index % len(extensions)] if extensions else b""
        wire += b"%x%s\r\n%s\r\n" % (len(payload), extension, payload)
    wire += b"0\r\n" + b"".join(b"%s\r\n" % trailer for trailer in trailers) + b"\r\n"
    return wire + extra


@given(
    payloads=st.lists(st.binary(min_size=1, max_size=300), max_size=8),
    extensions=st.lists(st.sampled_from([b"", b";name=value", b";x", b';a="b"']), max_size=3),
    trailers=st.lists(st.sampled_from([b"x-checksum: abc", b"x-done: 1"]), max_size=2),
    extra=st.sampled_from([b"", b"HTTP/1.1 200 OK\r\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12),
)
def test_chunked_framing_decodes_any_split_like_h11(
    payloads: list[bytes],
    extensions: list[bytes],
    trailers: list[bytes],
    extra: bytes,
    cuts: list[int],
) -> None:
    wire = _chunked_wire(payloads, extensions, trailers, extra)
    framing = _ChunkedFraming()
    decoded, rest = b"", b""
    edges = sorted({0, len(wire), *(cut for cut in cuts if cut < len(wire))})
    for start, stop in itertools.pairwise(edges):
        decoded += framing.feed(wire[start:stop])
        if framing.done:
            rest = framing.extra + wire[stop:]
            break
    assert framing.done
    assert decoded == b"".join(payloads)
    assert rest == extra
    # h11, the reference, reads the same body from the same bytes.
    oracle = h11.Connection(h11.CLIENT)
    oracle.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    oracle.send(h11.EndOfMessage())
    oracle.receive_data(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + wire)
    body = b""
    while type(event := oracle.next_event()) is not h11.EndOfMessage:
        if type(event) is h11.Data:
            body += event.data
    assert body == decoded


@pytest.mark.parametrize(
    "wire",
    [
        b"zz\r\nhello\r\n",  # not hexadecimal
        b"0x5\r\nhello\r\n",  # int() would take the prefix; HTTP does not
        b"5\r\nhelloXY",  # no CRLF after the data
        b"-5\r\nhello\r\n",
        b"1" * 70_000,  # a size line that never ends
    ],
)
def test_malformed_chunks_are_protocol_errors(wire: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        _ChunkedFraming().feed(wire)


# -- the messages, against h11 (the reference HTTP/1.1 implementation) -------------------------

_NAMES = st.from_regex(r"\A[A-Za-z][-A-Za-z0-9]{0,15}\Z")
_VALUES = st.from_regex(r"\A[!-~]([ !-~]{0,30}[!-~])?\Z")


@given(
    status=st.integers(min_value=200, max_value=599),
    reason=st.from_regex(r"\A[ !-~]{0,20}\Z"),
    headers=st.lists(st.tuples(_NAMES, _VALUES), max_size=8),
    length=st.none() | st.integers(min_value=0, max_value=10**12),
    version=st.sampled_from(["1.1", "1.0"]),
)
def test_response_heads_parse_like_h11(
    status: int,
    reason: str,
    headers: list[tuple[str, str]],
    length: int | None,
    version: str,
) -> None:
    fields = [
        (name, value)
        for name, value in headers
        if name.lower() not in {"content-length", "transfer-encoding", "connection"}
    ]
    if length is not None:
        fields.append(("Content-Length", str(length)))
    block = f"HTTP/{version} {status} {reason}".encode() + b"".join(
        f"\r\n{name}:  {value} ".encode() for name, value in fields
    )
    head = _parse_head(block, b"GET")
    oracle = h11.Connection(h11.CLIENT)
    oracle.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    oracle.send(h11.EndOfMessage())
    oracle.receive_data(block + b"\r\n\r\n")
    expected = oracle.next_event()
    assert type(expected) is h11.Response
    assert (head.status, head.reason, head.version) == (
        expected.status_code,
        expected.reason,
        expected.http_version,
    )
    assert [(name.lower(), value) for name, value in head.headers] == list(expected.headers)
    assert head.keep_alive == (version == "1.1")


@given(
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    path=st.from_regex(r"\A/[a-z0-9/._-]{0,20}\Z"),
    headers=st.lists(st.tuples(_NAMES, _VALUES), max_size=6),
    body=st.binary(max_size=200),
)
def test_requests_are_written_as_h11_reads_them(
    method: str, path: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    fields = [
        (name, value)
        for name, value in headers
        if name.lower() not in {"host", "content-length", "transfer-encoding", "connection"}
    ]
    request = httpx.Request(method, f"http://example.test{path}", headers=fields, content=body)
    head, length, chunked, close = _request_head(request)
    assert not chunked
    assert not close
    oracle = h11.Connection(h11.SERVER)
    oracle.receive_data(head + body)
    event = oracle.next_event()
    assert type(event) is h11.Request
    assert (event.method, event.target) == (method.encode(), request.url.raw_path)
    assert list(event.headers) == [(name.lower(), value) for name, value in request.headers.raw]
    received = b""
    while type(part := oracle.next_event()) is h11.Data:
        received += part.data
    assert received == body
    assert (length or 0) == len(body)


@pytest.mark.parametrize(
    "header",
    [("x-evil", "a\r\nx-injected: 1"), ("x-evil", "a\nb"), ("bad name", "v"), ("x", "a\x00b")],
)
def test_a_header_that_would_corrupt_the_request_is_refused(header: tuple[str, str]) -> None:
    request = httpx.Request("GET", "http://example.test/")
    request.headers[header[0]] = header[1]
    with pytest.raises(httpx.LocalProtocolError):
        _request_head(request)


@pytest.mark.parametrize(
    "block",
    [
        b"HTTP/1.1 20 OK",  # two-digit status
        b"HTTP/2 200 OK",
        b"ICY 200 OK",
        b"HTTP/1.1 200 OK\r\nno colon here",
        b"HTTP/1.1 200 OK\r\nbad name: x",
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6",
        b"HTTP/1.1 200 OK\r\ncontent-length: -1",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip",
    ],
)
def test_malformed_response_heads_are_protocol_errors(block: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        _parse_head(block, b"GET")


def test_head_details_folding_keep_alive_and_framing() -> None:
    folded = _parse_head(b"HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\nConnection: Close", b"GET")
    assert folded.headers == [(b"X-Long", b"one two"), (b"Connection", b"Close")]
    assert not folded.keep_alive
    chunked = _parse_head(
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: Chunked", b"GET"
    )
    assert isinstance(chunked.framing, _ChunkedFraming)  # chunked wins over a length
    assert (
        _parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 4, 4", b"GET").framing.feed(b"abcdef")
        == b"abcd"
    )


async def test_an_interim_100_continue_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + fixed(b"final"))
        await writer.drain()

    async with RawServer(handler) as server, client() as http:
        response = await http.get(server.url())
    assert (response.status_code, response.content) == (200, b"final")


async def test_http_1_0_answers_are_not_kept_alive() -> None:
    response = b"HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nold"
    async with RawServer(answer_each(response)) as server, client() as http:
        first = await http.get(server.url())
        second = await http.get(server.url())
    assert (first.content, second.content, first.http_version) == (b"old", b"old", "HTTP/1.0")
    assert server.connections == 2


async def test_a_request_asking_to_close_is_not_kept_alive() -> None:
    async with RawServer(answer_each(fixed(b"ok"))) as server, client() as http:
        await http.get(server.url(), headers={"connection": "close"})
        await http.get(server.url())
    assert server.connections == 2


# -- failures ----------------------------------------------------------------------------------


async def test_a_cut_mid_body_is_a_remote_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()

    async with (
        RawServer(handler) as server,
        client() as http,
        http.stream("GET", server.url()) as response,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await response.aread()


async def test_a_cut_stream_reaches_the_provider_as_a_network_error() -> None:
    async with LoopbackModelServer() as server:
        server.enqueue(Reply(text="a partial answer that is cut", chunk_chars=4, cut_after=4))
        settings = ProviderSettings(
            name="anthropic", base_url=server.url, api_key="k", max_retries=0
        )
        provider = AnthropicProvider(settings)
        try:
            events, error = await run_until_error(provider, REQUEST)
        finally:
            await provider.aclose()
    assert isinstance(error, NetworkError)
    assert "closed the connection mid-reply" in error.message
    assert any(isinstance(event, TextChunk) for event in events)


async def test_silence_past_the_read_timeout_is_a_read_timeout() -> None:
    stalled = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n")
        await writer.drain()
        await stalled.wait()

    async with RawServer(handler) as server, client(read=0.05) as http:
        async with http.stream("GET", server.url()) as response:
            chunks = response.aiter_raw()
            assert await anext(chunks) == b"hi"
            with pytest.raises(httpx.ReadTimeout):
                await anext(chunks)
        stalled.set()


async def test_a_slow_stream_within_the_read_timeout_is_not_cut() -> None:
    """The timer armed for an early read must not fire on a later, still-young one."""
    gaps = asyncio.Queue[None]()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for _ in range(4):
            await gaps.get()
            writer.write(b"1\r\n.\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def pace() -> None:
        for _ in range(4):
            await asyncio.sleep(0.04)  # each gap under the read timeout, all four well over it
            gaps.put_nowait(None)

    async with RawServer(handler) as server, client(read=0.1) as http:
        pacer = asyncio.create_task(pace())
        response = await http.get(server.url())
        await pacer
    assert response.content == b"...."


async def test_a_peer_that_stops_reading_is_a_write_timeout() -> None:
    stalled = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stalled.wait()  # never reads the request: the socket buffers fill up

    async with RawServer(handler) as server, client(write=0.05) as http:
        with pytest.raises(httpx.WriteTimeout):
            await http.post(server.url(), content=b"x" * 32_000_000)
        stalled.set()


async def test_a_scheme_it_does_not_speak_goes_to_httpx() -> None:
    async with client() as http:
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get("ftp://127.0.0.1/file")


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_closing_a_response_early_drops_its_connection() -> None:
    async with LoopbackModelServer() as server:
        server.enqueue(
            Reply(text="a long answer " * 50, chunk_chars=4, stall_after=5),
            Reply(text="next"),
        )
        settings = ProviderSettings(name="anthropic", base_url=server.url, api_key="k")
        provider = AnthropicProvider(settings)
        try:
            stream = provider.stream(REQUEST)
            async for event in stream:
                if isinstance(event, TextChunk):
                    break
            await stream.aclose()  # type: ignore[attr-defined]
            await server.wait_for_disconnect()
            _, reply = await run_stream(provider, REQUEST)
        finally:
            await provider.aclose()
    assert reply.text == "next"
    assert [request.connection for request in server.requests] == [1, 2]


async def test_cancelling_a_reader_closes_its_connection() -> None:
    async with LoopbackModelServer() as server:
        server.enqueue(Reply(text="words " * 100, chunk_chars=4, stall_after=5))
        settings = ProviderSettings(name="anthropic", base_url=server.url, api_key="k")
        provider = AnthropicProvider(settings)
        first_chunk = asyncio.Event()

        async def consume() -> None:
            async for event in provider.stream(REQUEST):
                if isinstance(event, TextChunk):
                    first_chunk.set()

        task = asyncio.create_task(consume())
        try:
            await first_chunk.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await server.wait_for_disconnect()
        finally:
            await provider.aclose()
    assert server.disconnects == 1


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made with the openssl CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed (.ci/run installs it)")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _server_tls(cert: Path, key: Path, seen: dict[str, str | None]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])

    def remember(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        seen["sni"] = name

    context.sni_callback = remember
    return context


async def test_https_with_a_trusted_certificate_works_with_sni_and_alpn(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    seen: dict[str, str | None] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tls_object = writer.get_extra_info("ssl_object")
        seen["alpn"] = tls_object.selected_alpn_protocol()
        await answer_each(fixed(b"secret"))(reader, writer)

    trusted = ssl.create_default_context(cafile=str(cert))
    tls = _server_tls(cert, key, seen)
    async with (
        RawServer(handler, tls=tls) as server,
        client(AsyncioTransport(verify=trusted)) as http,
    ):
        first = await http.get(server.url("https", "localhost"))
        second = await http.get(server.url("https", "localhost"))
    assert (first.content, second.content) == (b"secret", b"secret")
    assert seen == {"sni": "localhost", "alpn": "http/1.1"}
    assert server.connections == 1


async def test_https_with_an_untrusted_certificate_fails_to_connect(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    tls = _server_tls(cert, key, {})
    async with RawServer(answer_each(fixed(b"secret")), tls=tls) as server, client() as http:
        # verify=True: certifi's bundle, which does not know this self-signed certificate.
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            await http.get(server.url("https", "localhost"))


async def test_plain_http_never_builds_a_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> ssl.SSLContext:
        raise AssertionError("a TLS context was built for plain HTTP")

    monkeypatch.setattr(httpx, "create_ssl_context", refuse)
    async with RawServer(answer_each(fixed(b"plain"))) as server, client() as http:
        response = await http.get(server.url())
    assert response.content == b"plain"


# -- choosing the transport --------------------------------------------------------------------


_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*_PROXY_VARS, TRANSPORT_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_direct_connections_use_arcans_transport(no_proxy_env: pytest.MonkeyPatch) -> None:
    assert isinstance(transport_for(limits=httpx.Limits()), AsyncioTransport)


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_configured_proxy_hands_over_to_httpx(
    no_proxy_env: pytest.MonkeyPatch, name: str
) -> None:
    no_proxy_env.setenv(name, "http://proxy.invalid:3128")
    assert transport_for(limits=httpx.Limits()) is None


def test_the_escape_hatch_forces_httpx(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv(TRANSPORT_ENV, "httpx")
    assert transport_for(limits=httpx.Limits()) is None
    provider = AnthropicProvider(
        ProviderSettings(name="anthropic", base_url="http://x", api_key="k")
    )
    assert isinstance(provider.client._transport, httpx.AsyncHTTPTransport)


def test_an_unknown_transport_name_is_a_config_error(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv(TRANSPORT_ENV, "curl")
    with pytest.raises(ConfigError, match="unknown HTTP transport 'curl'") as caught:
        transport_for(limits=httpx.Limits())
    assert caught.value.hint is not None
    assert "asyncio, httpx" in caught.value.hint


def test_an_injected_transport_wins(no_proxy_env: pytest.MonkeyPatch) -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(200))
    settings = ProviderSettings(name="anthropic", base_url="http://x", api_key="k")
    assert AnthropicProvider(settings, transport=mock).client._transport is mock


# -- the whole process -------------------------------------------------------------------------


def test_arcan_exec_never_imports_httpcore_anyio_h11_or_certifi(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ARCAN_", "ANTHROPIC_")) and k not in _PROXY_VARS
    }
    env.update(
        ANTHROPIC_API_KEY="loopback",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        HOME=str(tmp_path / "home"),
    )
    with ThreadedLoopback() as server:
        server.enqueue(Reply(text="all done over the asyncio transport"))
        result = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-c",
                "from arcan_tui.cli import entry; entry()",
                "exec",
                "-C",
                str(project),
                "--provider",
                "anthropic",
                "--base-url",
                server.anthropic_base_url,
                "--model",
                "loopback-model",
                "--no-checkpoints",
                "say it",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "all done over the asyncio transport" in result.stdout
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "arcan_core.providers.transport" in imported  # the report is real
    assert not {"httpcore", "anyio", "certifi", "h11"} & imported
