"""The providers' HTTP/1.1 wire: an httpx transport on asyncio protocols.

httpx stays the client API (``httpx.AsyncClient``: URLs, headers, JSON bodies, decoding, the
exception tree), but its default transport goes through httpcore and anyio, which cost about
20 ms to import and, per streamed chunk, several context managers, a cancel scope and an anyio
``receive``: about half of the CPU a headless run spends on a long streamed reply. This transport
speaks the same ``httpx.AsyncBaseTransport`` interface with far less between the socket and the
SSE decoder:

- ``_Socket`` is an ``asyncio.Protocol``: ``data_received`` appends to a list and wakes the one
  waiting reader. The read timeout is one lazily re-armed timer per connection (checked against
  the deadline of the current read when it fires), not a timer or context manager per read.
- The HTTP/1.1 messages are written and parsed here: ``_request_head`` (validating what it
  writes: no CR or LF can smuggle a header in), ``_parse_head`` (status line, headers, keep-alive
  and the body's framing) and the ``_Framing`` decoders (chunked, length, until close). h11, the
  reference parser the tests compare against, cost ~7 ms to import in every process, and its
  per-event machinery ~10 us per streamed chunk, for a client that speaks to one kind of server.
- A response body is an ``httpx.AsyncByteStream`` that yields whatever bytes have arrived, at once.
- ``AsyncioTransport`` keeps a small per-origin pool of idle connections (a tool round trip makes
  two requests), bounded like httpx's own by ``httpx.Limits``, and retries once on a fresh
  connection when a kept-alive one turns out to be closed before any response byte came back.

Errors are httpx's own exceptions (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``...),
so the providers' error mapping does not know which transport ran. The TLS context is made at the
first ``https`` connect with httpx's ``verify`` semantics (certifi's bundle for ``True``), so plain
HTTP to a local server never loads a CA certificate.

``transport_for`` picks the transport for a provider client: this one for direct connections,
httpx's own (``None``) when a proxy is configured in the environment (httpx knows proxies; this
transport does not) or when ``ARCAN_HTTP_TRANSPORT=httpx`` asks for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import select
import socket as socket_module
import urllib.request
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeAlias, cast

import httpx

from arcan_core.errors import ConfigError

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Callable

__all__ = ["TRANSPORT_ENV", "AsyncioTransport", "proxies_configured", "transport_for"]

TRANSPORT_ENV: Final = "ARCAN_HTTP_TRANSPORT"
"""Environment variable naming the provider transport: ``asyncio`` (default) or ``httpx``."""

Verify: TypeAlias = "ssl.SSLContext | str | bool"
"""What httpx's ``verify=`` takes: a context, a CA bundle path, or verify on/off."""

_Origin: TypeAlias = tuple[bytes, bytes, int]
"""(scheme, host, port): connections are pooled per origin."""

_HIGH_WATER: Final = 256 * 1024
"""Bytes buffered unread before the socket stops reading (a consumer slower than the network)."""
_WRITE_BATCH: Final = 64 * 1024
"""Request bytes gathered before a write: headers and a JSON body leave in one send."""
_DEFAULT_PORTS: Final = {b"http": 80, b"https": 443}
_BATCH_AFTER_S: Final = 0.25
"""How long a body streams before reads are batched (``read_batch_s``): a reply that ends sooner
would only be delayed by a hold, with next to nothing saved."""


def _readable_now(fd: int) -> bool:
    """Whether ``fd`` has something to read (or its EOF) right now, without waiting."""
    if hasattr(select, "poll"):  # any descriptor number; select() stops at FD_SETSIZE (1024)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)  # Windows: no poll()
    return bool(readable)


class _Socket(asyncio.Protocol):
    """One connection's bytes: buffered arrivals, one waiting reader, write flow control."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._error: BaseException | None = None
        self.closed = False
        self._reader: asyncio.Future[bool] | None = None
        """The pending read's future: its result says whether the read timed out."""
        self._reading_paused = False
        """Paused because too much is buffered unread (flow control)."""
        self._held = False
        """Paused for a read batch (see ``hold``)."""
        self._write_paused = False
        self._drainer: asyncio.Future[None] | None = None
        self._deadline = math.inf
        """When the pending read times out (``inf``: never)."""
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the connection was opened on (and only works on)."""
        return self._loop

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport (asyncio calls this once, before any data)."""
        self.transport = cast("asyncio.Transport", transport)  # a stream socket's transport

    def data_received(self, data: bytes) -> None:
        """Buffer ``data`` and wake the reader."""
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and not self._reading_paused and self.transport:
            self._reading_paused = True
            if not self._held:
                self.transport.pause_reading()
        reader = self._reader
        if reader is not None and not reader.done():
            reader.set_result(False)

    def eof_received(self) -> bool:
        """The peer finished sending: wake the reader; let asyncio close the transport."""
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: fail or end the pending read and write."""
        self.closed = True
        self._eof = True
        self._error = exc
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()
        drainer = self._drainer
        if drainer is not None and not drainer.done():
            drainer.set_result(None)

    def pause_writing(self) -> None:
        """The send buffer is full: writers wait for ``resume_writing``."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """The send buffer drained."""
        self._write_paused = False
        drainer = self._drainer
        if drainer is not None and not drainer.done():
            drainer.set_result(None)

    # -- reading ---------------------------------------------------------------------------

    def _wake(self) -> None:
        reader = self._reader
        if reader is not None and not reader.done():
            reader.set_result(False)

    @property
    def readable_while_idle(self) -> bool:
        """Whether anything (bytes or the peer's close) arrived on an idle connection."""
        if self._buffer or self._eof or self.transport is None:
            return True
        # The peer's close may sit in the kernel while the loop has not polled the socket yet
        # (the next request would then be written into a dead connection): ask the kernel.
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return False
        try:
            return _readable_now(sock.fileno())
        except (OSError, ValueError):
            return True  # cannot tell: a new connection is the safe choice

    async def read(self, limit_s: float | None) -> bytes:
        """Return what arrived since the last read, waiting up to ``limit_s``; ``b""`` at EOF.

        Raises:
            httpx.ReadTimeout: nothing arrived for ``limit_s`` seconds.
            httpx.ReadError: the connection failed (reset...).
        """
        if not self._buffer:
            if self._eof:
                if self._error is not None:
                    raise httpx.ReadError(str(self._error) or type(self._error).__name__)
                return b""
            await self._wait(limit_s)
            if not self._buffer:
                return await self.read(limit_s)  # woken by the close: report it as above
        buffer = self._buffer
        data = buffer[0] if len(buffer) == 1 else b"".join(buffer)
        buffer.clear()
        self._buffered = 0
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            if not self._held:
                self.transport.resume_reading()
        return data

    def hold(self, seconds: float) -> None:
        """Stop reading the socket for ``seconds``, so what arrives meanwhile comes in one read.

        A streamed reply arrives as one small event every few milliseconds, and each arrival
        costs an event-loop wake-up, a system call and a pass through the body and SSE
        iterators. While held, arrivals wait in the kernel's buffer; the next read takes them
        all. The first bytes after a quiet spell are not delayed: only a read that just got
        data starts a hold.
        """
        transport = self.transport
        if transport is None or self.closed or self._held or seconds <= 0:
            return
        self._held = True
        if not self._reading_paused:
            transport.pause_reading()
        self._loop.call_later(seconds, self._end_hold)

    def _end_hold(self) -> None:
        self._held = False
        if not self._reading_paused and not self.closed and self.transport is not None:
            self.transport.resume_reading()

    async def _wait(self, limit_s: float | None) -> None:
        loop = self._loop
        reader: asyncio.Future[bool] = loop.create_future()
        self._reader = reader
        if limit_s is None:
            self._deadline = math.inf
        else:
            self._deadline = loop.time() + limit_s
            # One timer serves many reads: it stays armed at an earlier deadline and, when it
            # fires before the current one, re-arms for it (see ``_on_timer``).
            if self._timer is None or self._timer_at > self._deadline:
                self._arm(self._deadline)
        try:
            timed_out = await reader
        finally:
            self._reader = None
        if timed_out:
            raise httpx.ReadTimeout(f"nothing received for {limit_s:g} s")

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = self._loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        reader = self._reader
        if reader is None or reader.done() or self._deadline == math.inf:
            return  # no read waiting on a deadline: the next one re-arms
        if self._loop.time() >= self._deadline:
            reader.set_result(True)
        else:
            self._arm(self._deadline)

    # -- writing and closing ---------------------------------------------------------------

    async def write(self, data: bytes, limit_s: float | None) -> None:
        """Send ``data``, waiting up to ``limit_s`` for the send buffer to drain.

        Raises:
            httpx.WriteTimeout: the peer did not take the bytes in time.
            httpx.WriteError: the connection is closed.
        """
        transport = self.transport
        if transport is None or self.closed or transport.is_closing():
            raise httpx.WriteError(self._closed_reason())
        transport.write(data)
        if self._write_paused:
            drainer: asyncio.Future[None] = self._loop.create_future()
            self._drainer = drainer
            try:
                async with asyncio.timeout(limit_s):
                    await drainer
            except TimeoutError:
                raise httpx.WriteTimeout(f"the request was not sent within {limit_s:g} s") from None
            finally:
                self._drainer = None
        if self.closed:
            raise httpx.WriteError(self._closed_reason())

    def _closed_reason(self) -> str:
        if self._error is not None:
            return str(self._error) or type(self._error).__name__
        return "the connection is closed"

    def close(self, *, abort: bool = False) -> None:
        """Close the connection: gracefully between messages, at once (``abort``) mid-message."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        transport = self.transport
        if transport is not None and not self.closed:
            if not self._loop.is_closed():
                if abort:
                    transport.abort()
                else:
                    transport.close()
            else:
                # Its loop has ended, and closing goes through the loop: hang up now, and the
                # transport's finaliser releases the descriptor when the connection is dropped.
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket_module.SHUT_RDWR)
        self.closed = True


class _Connection:
    """A socket with its HTTP/1.1 state, pooled per origin."""

    __slots__ = ("idle_since", "keep_alive", "on_close", "origin", "reused", "socket")

    def __init__(
        self, origin: _Origin, socket: _Socket, on_close: Callable[[_Connection], None]
    ) -> None:
        self.origin = origin
        self.socket = socket
        self.keep_alive = True
        """Whether both sides allow another request after this one (set from each head)."""
        self.idle_since = 0.0
        self.reused = False
        self.on_close = on_close

    def reusable(self, loop: asyncio.AbstractEventLoop, expiry: float | None) -> bool:
        """Whether an idle connection can carry the next request on ``loop``."""
        socket = self.socket
        # A connection belongs to the loop that opened it (a client reused by a second
        # ``asyncio.run`` must not touch the first loop's sockets).
        if socket.closed or socket.loop is not loop or socket.readable_while_idle:
            return False
        return expiry is None or loop.time() - self.idle_since < expiry

    def close(self, *, abort: bool = False) -> None:
        """Close the socket and give its slot back to the pool (idempotent)."""
        self.socket.close(abort=abort)
        self.on_close(self)


class _StaleConnectionError(Exception):
    """A kept-alive connection was closed by the server before it answered: use a new one."""


_HEX_SIZE: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MAX_LINE: Final = 64 * 1024
"""A chunk-size or trailer line longer than this is not HTTP: fail rather than buffer it."""


class _Framing(ABC):
    """Decodes one response body as its bytes arrive (the hot path of a streamed reply).

    This, not h11, frames the body: h11's generic event machinery (an event object and a
    state-machine step per HTTP chunk, plus a second call to learn that it needs more data) was
    most of the transport's CPU per streamed delta. Each ``feed`` returns the payload bytes in
    ``data`` at once, joined.
    """

    done = False
    """The body ended (the bytes after its end, if any, are in ``extra``)."""
    extra = b""
    reusable = True
    """Whether the connection can carry another request once the body ended cleanly."""

    @abstractmethod
    def feed(self, data: bytes) -> bytes:
        """Take the next bytes from the socket; return the payload they carry."""

    def end_of_input(self) -> None:
        """The peer closed the connection: raise unless that ends the body."""
        raise httpx.RemoteProtocolError("the server closed the connection before the body ended")


class _LengthFraming(_Framing):
    """A ``Content-Length`` body (or none: HEAD, 204, 304)."""

    def __init__(self, length: int) -> None:
        self._left = length
        self.done = length == 0

    def feed(self, data: bytes) -> bytes:
        left = self._left
        if len(data) < left:
            self._left = left - len(data)
            return data
        self._left = 0
        self.done = True
        self.extra = data[left:]
        return data[:left]


class _UntilCloseFraming(_Framing):
    """Neither length nor chunks: the body is everything until the server closes."""

    reusable = False

    def feed(self, data: bytes) -> bytes:
        return data

    def end_of_input(self) -> None:
        self.done = True


class _ChunkedFraming(_Framing):
    """``Transfer-Encoding: chunked``: size lines, data, CRLF, a zero size, trailers."""

    _SIZE, _DATA, _DATA_END, _TRAILER = range(4)

    def __init__(self) -> None:
        self._state = self._SIZE
        self._left = 0
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        buf = self._pending + data if self._pending else data
        self._pending = b""
        parts: list[bytes] = []
        pos, end = 0, len(buf)
        while pos < end:
            state = self._state
            if state == self._DATA:
                stop = min(end, pos + self._left)
                parts.append(buf[pos:stop])
                self._left -= stop - pos
                pos = stop
                if not self._left:
                    self._state = self._DATA_END
            elif state == self._DATA_END:
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise httpx.RemoteProtocolError("a body chunk does not end with CRLF")
                pos += 2
                self._state = self._SIZE
            else:
                newline = buf.find(b"\r\n", pos)
                if newline < 0:
                    if end - pos > _MAX_LINE:
                        raise httpx.RemoteProtocolError("a chunk header line is too long")
                    break
                line = buf[pos:newline]
                pos = newline + 2
                if state == self._TRAILER:
                    if not line:  # the blank line after the trailers: the end
                        self.done = True
                        self.extra = buf[pos:]
                        return b"".join(parts)
                    continue
                size = line.split(b";", 1)[0].strip(b" \t")  # extensions are ignored
                if not _HEX_SIZE.fullmatch(size):
                    raise httpx.RemoteProtocolError(f"bad chunk size line {line[:40]!r}")
                self._left = int(size, 16)
                self._state = self._DATA if self._left else self._TRAILER
        self._pending = buf[pos:]
        return parts[0] if len(parts) == 1 else b"".join(parts)


_NO_BODY_STATUSES: Final = frozenset({204, 304})
_TOKEN: Final = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
"""A method or header name (RFC 9110 ``token``)."""
_TARGET: Final = re.compile(rb"[\x21-\x7e\x80-\xff]+")
_STATUS_LINE: Final = re.compile(rb"HTTP/(\d\.\d) (\d{3})(?: ([ \t\x21-\x7e\x80-\xff]*))?")
_HEAD_END: Final = re.compile(rb"\n\r?\n")
_DIGITS: Final = re.compile(rb"[0-9]{1,19}")
_MAX_HEAD: Final = 64 * 1024
"""A response head larger than this is not an API's: fail rather than buffer it."""


def _bad_value(value: bytes) -> bool:
    return b"\r" in value or b"\n" in value or b"\x00" in value


def _has_token(value: bytes, token: bytes) -> bool:
    """Whether the comma-separated header ``value`` lists ``token`` (case-insensitive)."""
    return any(part.strip(b" \t").lower() == token for part in value.split(b","))


def _request_head(request: httpx.Request) -> tuple[bytes, int | None, bool, bool]:
    """Serialize the request line and headers; say how the body is framed.

    Returns:
        The head, the declared ``Content-Length`` (``None`` when there is none), whether the body
        is chunked, and whether the request asks to close the connection after it.

    Raises:
        httpx.LocalProtocolError: a method, target or header that would corrupt the message
            (a CR or LF in a header value would let it smuggle in headers of its own).
    """
    method = request.method.encode("ascii")
    target = request.url.raw_path
    if not _TOKEN.fullmatch(method) or not _TARGET.fullmatch(target):
        raise httpx.LocalProtocolError(f"cannot send the request line {method!r} {target!r}")
    lines = [b"%s %s HTTP/1.1\r\n" % (method, target)]
    length: int | None = None
    chunked = close = False
    for name, value in request.headers.raw:
        if not _TOKEN.fullmatch(name) or _bad_value(value):
            raise httpx.LocalProtocolError(f"cannot send the header {name!r}: {value!r}")
        lowered = name.lower()
        if lowered == b"content-length":
            if not _DIGITS.fullmatch(value):
                raise httpx.LocalProtocolError(f"bad Content-Length {value!r}")
            length = int(value)
        elif lowered == b"transfer-encoding":
            if value.lower() != b"chunked":
                raise httpx.LocalProtocolError("only Transfer-Encoding: chunked is supported")
            chunked = True
        elif lowered == b"connection":
            close = close or _has_token(value, b"close")
        lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    return b"".join(lines), (None if chunked else length), chunked, close


@dataclass(frozen=True, slots=True)
class _Head:
    """A parsed response head."""

    version: bytes
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    """Names as the server spelled them, values without surrounding whitespace."""
    keep_alive: bool
    framing: _Framing


def _parse_head(block: bytes, method: bytes) -> _Head:
    """Parse a response head (without its blank line) and decide the body's framing.

    Raises:
        httpx.RemoteProtocolError: the head is not valid HTTP/1.x.
    """
    lines = block.split(b"\n")
    status_line = lines[0].removesuffix(b"\r")
    matched = _STATUS_LINE.fullmatch(status_line)
    if matched is None:
        raise httpx.RemoteProtocolError(f"bad status line {status_line[:80]!r}")
    version, status, reason = matched.group(1), int(matched.group(2)), matched.group(3) or b""
    headers: list[tuple[bytes, bytes]] = []
    for raw_line in lines[1:]:
        line = raw_line.removesuffix(b"\r")
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding: a continuation
            name, value = headers[-1]
            headers[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        value = value.strip(b" \t")
        if not colon or not _TOKEN.fullmatch(name) or _bad_value(value):
            raise httpx.RemoteProtocolError(f"bad header line {line[:80]!r}")
        headers.append((name, value))
    keep_alive = version == b"1.1"
    lengths: set[bytes] = set()
    encodings = 0
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            lengths.update(part.strip(b" \t") for part in value.split(b","))
        elif lowered == b"transfer-encoding":
            encodings += 1
            if value.lower() != b"chunked":
                raise httpx.RemoteProtocolError("only Transfer-Encoding: chunked is supported")
        elif lowered == b"connection" and _has_token(value, b"close"):
            keep_alive = False
    if len(lengths) > 1 or encodings > 1 or not all(map(_DIGITS.fullmatch, lengths)):
        raise httpx.RemoteProtocolError("conflicting or malformed body framing headers")
    framing: _Framing
    if method == b"HEAD" or status in _NO_BODY_STATUSES or status < 200:
        framing = _LengthFraming(0)
    elif encodings:
        framing = _ChunkedFraming()  # it overrides a Content-Length (RFC 9112, 6.3)
    elif lengths:
        framing = _LengthFraming(int(lengths.pop()))
    else:
        framing = _UntilCloseFraming()
    return _Head(version, status, reason, headers, keep_alive, framing)


class _ResponseBody(httpx.AsyncByteStream):
    """A response body: yields the bytes of each arrival; gives the connection back at the end."""

    def __init__(
        self,
        transport: AsyncioTransport,
        connection: _Connection,
        framing: _Framing,
        start: bytes,
        read_timeout: float | None,
        batch_s: float = 0.0,
    ) -> None:
        self._transport = transport
        self._connection: _Connection | None = connection
        self._framing = framing
        self._start = start
        self._read_timeout = read_timeout
        self._batch_s = batch_s

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        framing = self._framing
        feed = framing.feed
        read = connection.socket.read
        hold = connection.socket.hold
        timeout = self._read_timeout
        # A hold shorter than the read timeout cannot cause one: what arrives during it is read
        # when it ends, before the deadline of a read that started with it.
        batch_s = self._batch_s if timeout is None else min(self._batch_s, timeout / 2)
        clock = connection.socket.loop.time
        # Only a stream that goes on is batched: a short reply is not worth a hold's delay.
        batch_from = clock() + _BATCH_AFTER_S
        data = self._start  # what arrived with the head is the start of the body
        last = b""
        try:
            while True:
                # Everything already received leaves in one piece: nothing waits for bytes
                # that have not arrived, and fewer trips through httpx's iterators.
                payload = feed(data) if data else b""
                if framing.done:
                    last = payload
                    break
                if payload:
                    yield payload
                data = await read(timeout)
                if not data:
                    framing.end_of_input()
                    break
                if batch_s and clock() >= batch_from:
                    hold(batch_s)
            # The connection goes back before the last bytes are handed over, so a consumer
            # that stops at the final event (and never asks for the end) still leaves it reusable.
            self._connection = None
            self._transport._release(connection, reusable=framing.reusable and not framing.extra)
        finally:
            # Left before the end (an error, a cancel, the consumer stopped): the rest of the
            # body would precede the next response, so the connection cannot be reused.
            if self._connection is not None:
                self._connection = None
                connection.close(abort=True)
        if last:
            yield last

    async def aclose(self) -> None:
        """Close the response; an unfinished body's connection is closed, not pooled."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close(abort=True)


class AsyncioTransport(httpx.AsyncBaseTransport):
    """An HTTP/1.1 ``httpx`` transport on asyncio, with keep-alive (see the module doc).

    Args:
        verify: httpx's ``verify``: ``True`` (certifi's bundle, or ``SSL_CERT_FILE`` /
            ``SSL_CERT_DIR`` when ``trust_env``), ``False``, a CA bundle path or a context.
        trust_env: whether the TLS context may be taken from ``SSL_CERT_FILE``/``SSL_CERT_DIR``.
        limits: connection bounds, as for httpx's own transport: ``max_connections`` open at
            once (waiting for one is bounded by the ``pool`` timeout), ``max_keepalive_connections``
            idle ones kept, each for ``keepalive_expiry`` seconds.
    """

    def __init__(
        self,
        *,
        verify: Verify = True,
        trust_env: bool = True,
        limits: httpx.Limits | None = None,
        read_batch_s: float = 0.0,
    ) -> None:
        limits = limits or httpx.Limits()
        self._read_batch_s = read_batch_s
        self._verify = verify
        self._trust_env = trust_env
        self._ssl_context: ssl.SSLContext | None = None
        self._max_connections = limits.max_connections
        self._max_idle = limits.max_keepalive_connections
        self._expiry = limits.keepalive_expiry
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._idle_count = 0
        self._connections: set[_Connection] = set()
        self._connecting = 0
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._fallback: httpx.AsyncBaseTransport | None = None
        self._closed = False

    # -- httpx.AsyncBaseTransport ----------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response with its body still streaming."""
        url = request.url
        scheme = url.raw_scheme
        port = url.port or _DEFAULT_PORTS.get(scheme)
        if port is None or not url.raw_host:
            # Not http(s): httpx's own transport raises the error httpx users expect.
            return await self._fallback_transport().handle_async_request(request)
        if self._closed:
            raise httpx.ConnectError("the HTTP transport is closed")
        origin: _Origin = (scheme, url.raw_host, port)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connection = await self._acquire(origin, request, timeouts, reuse=True)
        try:
            exchanged = await self._exchange(connection, request, timeouts)
        except _StaleConnectionError as stale:
            connection.close(abort=True)
            if not isinstance(request.stream, httpx.ByteStream):
                # A streamed body has been consumed and cannot be sent again.
                raise httpx.RemoteProtocolError(
                    "the server closed the kept-alive connection"
                ) from stale.__cause__
            connection = await self._acquire(origin, request, timeouts, reuse=False)
            exchanged = await self._exchange_or_close(connection, request, timeouts)
        except BaseException:
            connection.close(abort=True)
            raise
        head, start = exchanged
        return httpx.Response(
            status_code=head.status,
            headers=head.headers,
            stream=_ResponseBody(
                self, connection, head.framing, start, timeouts.get("read"), self._read_batch_s
            ),
            extensions={"http_version": b"HTTP/" + head.version, "reason_phrase": head.reason},
        )

    async def aclose(self) -> None:
        """Close every connection, idle or busy, and the fallback transport if one was made."""
        self._closed = True
        for connection in list(self._connections):
            connection.close(abort=True)
        self._idle.clear()
        self._idle_count = 0
        if self._fallback is not None:
            await self._fallback.aclose()

    # -- one exchange ----------------------------------------------------------------------

    async def _exchange_or_close(
        self, connection: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> tuple[_Head, bytes]:
        try:
            return await self._exchange(connection, request, timeouts)
        except BaseException:
            connection.close(abort=True)
            raise

    async def _exchange(
        self, connection: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> tuple[_Head, bytes]:
        """Send the request; return the response head and the body bytes that came with it."""
        socket = connection.socket
        received = False
        try:
            asked_to_close = await self._send(socket, request, timeouts.get("write"))
            read_timeout = timeouts.get("read")
            method = request.method.encode("ascii")
            buffer = b""
            while True:
                found = _HEAD_END.search(buffer)
                if found is None:
                    if len(buffer) > _MAX_HEAD:
                        raise httpx.RemoteProtocolError("the response head is too large")
                    data = await socket.read(read_timeout)
                    if not data:
                        raise httpx.RemoteProtocolError("the server closed without answering")
                    received = True
                    # Blank lines before a status line are to be ignored (RFC 9112, 2.2).
                    buffer = (buffer + data).lstrip(b"\r\n") if not buffer else buffer + data
                    continue
                head = _parse_head(buffer[: found.start()], method)
                buffer = buffer[found.end() :]
                if head.status >= 200:
                    connection.keep_alive = head.keep_alive and not asked_to_close
                    return head, buffer
                if head.status == 101:
                    raise httpx.RemoteProtocolError("the server switched protocols")
                # 1xx (100 Continue...): an interim answer; the real one follows.
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as error:
            if connection.reused and not received:
                raise _StaleConnectionError from error
            raise

    @staticmethod
    async def _send(socket: _Socket, request: httpx.Request, write_timeout: float | None) -> bool:
        """Write the request (head and body in batches, the body framed as the head says).

        Returns:
            Whether the request asked to close the connection after its response.
        """
        head, length, chunked, close = _request_head(request)
        body = request.stream
        if not isinstance(body, httpx.AsyncByteStream):
            raise TypeError("an async transport needs an async request body")
        pending = [head]
        size = len(head)
        sent = 0
        async for chunk in body:
            if not chunk:
                continue
            if chunked:
                piece = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            else:
                sent += len(chunk)
                if length is None or sent > length:
                    raise httpx.LocalProtocolError("the body is longer than its Content-Length")
                piece = chunk
            pending.append(piece)
            size += len(piece)
            if size >= _WRITE_BATCH:
                await socket.write(b"".join(pending), write_timeout)
                pending.clear()
                size = 0
        if chunked:
            pending.append(b"0\r\n\r\n")
        elif sent != (length or 0):
            raise httpx.LocalProtocolError("the body is shorter than its Content-Length")
        await socket.write(b"".join(pending), write_timeout)
        return close

    # -- the pool --------------------------------------------------------------------------

    async def _acquire(
        self,
        origin: _Origin,
        request: httpx.Request,
        timeouts: dict[str, float | None],
        *,
        reuse: bool,
    ) -> _Connection:
        if reuse:
            connection = self._take_idle(origin)
            if connection is not None:
                return connection
        await self._reserve_slot(timeouts.get("pool"))
        try:
            sni = request.extensions.get("sni_hostname")
            host = origin[1].decode("ascii")
            connection = await self._connect(origin, sni or host, timeouts.get("connect"))
        except BaseException:
            self._connecting -= 1
            self._wake_slot_waiter()  # the slot this connect held is free again
            raise
        self._connecting -= 1  # the slot now belongs to the connection
        return connection

    def _take_idle(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        loop = asyncio.get_running_loop()
        while idle:
            connection = idle.pop()  # the most recently used is the likeliest still open
            self._idle_count -= 1
            if connection.reusable(loop, self._expiry):
                connection.reused = True
                return connection
            connection.close()
        return None

    async def _reserve_slot(self, limit_s: float | None) -> None:
        """Wait (up to the pool timeout) until one more connection may be opened."""
        limit = self._max_connections
        while limit is not None and len(self._connections) + self._connecting >= limit:
            if self._evict_idle():
                continue
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._slot_waiters.append(waiter)
            try:
                async with asyncio.timeout(limit_s):
                    await waiter
            except TimeoutError:
                raise httpx.PoolTimeout(
                    f"no connection free within {limit_s:g} s ({limit} in use)"
                ) from None
            finally:
                with contextlib.suppress(ValueError):
                    self._slot_waiters.remove(waiter)
        self._connecting += 1

    def _evict_idle(self) -> bool:
        """Close the longest-idle connection of any origin; whether there was one."""
        oldest: deque[_Connection] | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest[0].idle_since):
                oldest = idle
        if oldest is None:
            return False
        self._idle_count -= 1
        oldest.popleft().close()
        return True

    def _wake_slot_waiter(self) -> None:
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _forget(self, connection: _Connection) -> None:
        """A connection closed: its slot is free."""
        if connection in self._connections:
            self._connections.discard(connection)
            self._wake_slot_waiter()

    def _release(self, connection: _Connection, *, reusable: bool) -> None:
        """The response ended: keep the connection for the next request, or close it."""
        # ``keep_alive`` is off when either side asked to close (``Connection: close``, HTTP/1.0).
        if not reusable or not connection.keep_alive or self._closed or connection.socket.closed:
            connection.close()
            return
        connection.idle_since = asyncio.get_running_loop().time()
        full = self._max_idle is not None and self._idle_count >= self._max_idle
        if full and (self._max_idle == 0 or not self._evict_idle()):
            connection.close()
            return
        self._idle.setdefault(connection.origin, deque()).append(connection)
        self._idle_count += 1

    # -- connecting ------------------------------------------------------------------------

    async def _connect(self, origin: _Origin, sni: str, limit_s: float | None) -> _Connection:
        scheme, raw_host, port = origin
        loop = asyncio.get_running_loop()
        tls = self._tls_context() if scheme == b"https" else None
        try:
            async with asyncio.timeout(limit_s):
                _, socket = await loop.create_connection(
                    lambda: _Socket(loop),
                    raw_host.decode("ascii"),
                    port,
                    ssl=tls,
                    server_hostname=sni if tls is not None else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"no connection to {raw_host.decode('ascii')}:{port} within {limit_s:g} s"
            ) from None
        except OSError as error:  # refused, unreachable, DNS, and ssl.SSLError (certificates)
            raise httpx.ConnectError(str(error) or type(error).__name__) from error
        connection = _Connection(origin, socket, self._forget)
        self._connections.add(connection)
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        """The TLS context for ``verify`` (httpx's semantics), made at the first https connect."""
        if self._ssl_context is None:
            context = httpx.create_ssl_context(verify=self._verify, trust_env=self._trust_env)
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    def _fallback_transport(self) -> httpx.AsyncBaseTransport:
        if self._fallback is None:
            self._fallback = httpx.AsyncHTTPTransport(verify=self._verify)
        return self._fallback


def proxies_configured() -> bool:
    """Whether the environment names a proxy (``HTTP(S)_PROXY``, ``ALL_PROXY``...).

    httpx (with ``trust_env``) would route through it; this transport does not speak to proxies,
    so any proxy setting hands the client back to httpx's own transport. ``NO_PROXY`` alone is
    not a proxy.
    """
    return any(scheme != "no" for scheme in urllib.request.getproxies())


def _asyncio_transport(
    limits: httpx.Limits, read_batch_s: float
) -> httpx.AsyncBaseTransport | None:
    if proxies_configured():
        return None
    return AsyncioTransport(limits=limits, read_batch_s=read_batch_s)


def _httpx_transport(limits: httpx.Limits, read_batch_s: float) -> httpx.AsyncBaseTransport | None:
    del limits, read_batch_s  # httpx builds its own transport from the client's limits
    return None


_TRANSPORTS: dict[str, Callable[[httpx.Limits, float], httpx.AsyncBaseTransport | None]] = {
    "asyncio": _asyncio_transport,
    "httpx": _httpx_transport,
}


def transport_for(
    *, limits: httpx.Limits, read_batch_s: float = 0.0
) -> httpx.AsyncBaseTransport | None:
    """The transport a provider's client should use; ``None`` means httpx's own.

    ``ARCAN_HTTP_TRANSPORT`` chooses (``asyncio``, the default, or ``httpx``); the asyncio one
    steps aside when a proxy is configured. ``read_batch_s`` > 0 reads a streamed body at most
    that often (see ``_Socket.hold``): for a front-end that shows no deltas.

    Raises:
        ConfigError: ``ARCAN_HTTP_TRANSPORT`` names no known transport.
    """
    name = os.environ.get(TRANSPORT_ENV, "").strip().lower() or "asyncio"
    factory = _TRANSPORTS.get(name)
    if factory is None:
        raise ConfigError(
            f"unknown HTTP transport {name!r}",
            source="environment",
            key=TRANSPORT_ENV,
            hint=f"set it to one of {', '.join(sorted(_TRANSPORTS))}, or unset it",
        )
    return factory(limits, read_batch_s)
