"""A loopback HTTP/1.1 model server that speaks the streaming wire formats of the real APIs.

It listens on ``127.0.0.1`` on a free port and answers, from a FIFO queue of scripted items:

- ``POST /v1/messages``          Anthropic Messages streaming
- ``POST /v1/chat/completions``  OpenAI Chat Completions streaming
- ``POST /v1/responses``         OpenAI Responses streaming
- ``GET  /v1/models``            the model list (Anthropic shape when ``anthropic-version`` is sent)

Every request is recorded (method, path, headers, body). Responses are chunked, so connections
stay alive between requests and a cut mid-stream is a protocol error the client notices. When the
queue is empty the server answers 400 with a message naming the request, so a test that forgot a
reply fails loudly instead of hanging.

Use it in async tests with ``async with LoopbackModelServer() as server``; from synchronous code
(a test that runs ``arcan`` as a subprocess) use ``with ThreadedLoopback() as server``, which runs
the same server on its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from tests.loopback.replies import HttpError, Raw, ScriptedItem
from tests.loopback.wire import WIRES, Wire, error_body

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["LoopbackModelServer", "RecordedRequest", "ThreadedLoopback"]

_ROUTES: dict[str, Wire] = {
    "/v1/messages": "anthropic",
    "/v1/chat/completions": "chat",
    "/v1/responses": "responses",
}
_STALL_CAP_S = 60.0
"""A stalled response gives up after this long even if the client never hangs up."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int
    """Which connection carried it (equal numbers: the client reused a keep-alive connection)."""

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    @property
    def wire(self) -> Wire | None:
        """The API the request was for, from its path."""
        return _ROUTES.get(self.path)


class _DisconnectedError(Exception):
    """The client hung up while we were answering."""


class LoopbackModelServer:
    """The server. Queue replies with ``enqueue``; read what arrived in ``requests``."""

    def __init__(self, *, models: tuple[str, ...] = ("loopback-model",)) -> None:
        self.models = list(models)
        self.requests: list[RecordedRequest] = []
        self._queue: deque[ScriptedItem] = deque()
        self._lock = threading.Lock()
        self._server: asyncio.Server | None = None
        self._port = 0
        self._conn_ids = itertools.count(1)
        self._disconnects = 0
        self._disconnected: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        self._disconnected = asyncio.Event()
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
            # Aborting the sockets ends every handler through its own EOF path; cancelling the
            # handler tasks instead makes asyncio log their cancellation as an error.
            for writer in list(self._writers):
                writer.transport.abort()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- what tests use ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the Anthropic base URL convention)."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def anthropic_base_url(self) -> str:
        """The base URL to give an Anthropic client (no ``/v1``)."""
        return self.url

    @property
    def openai_base_url(self) -> str:
        """The base URL to give an OpenAI client (with ``/v1``)."""
        return f"{self.url}/v1"

    def enqueue(self, *items: ScriptedItem) -> None:
        """Queue replies; each request takes the next one. Safe from any thread."""
        with self._lock:
            self._queue.extend(items)

    @property
    def pending(self) -> int:
        """Replies not yet used."""
        with self._lock:
            return len(self._queue)

    @property
    def disconnects(self) -> int:
        """How many times a client hung up in the middle of a response."""
        return self._disconnects

    async def wait_for_disconnect(self, limit_s: float = 5.0) -> None:
        """Wait until a client hangs up mid-response (raises ``TimeoutError`` otherwise)."""
        assert self._disconnected is not None, "the server is not started"
        await asyncio.wait_for(self._disconnected.wait(), limit_s)

    # -- the HTTP side -----------------------------------------------------------------------

    def _take(self) -> ScriptedItem | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        connection = next(self._conn_ids)
        try:
            while True:
                request = await _read_request(reader, connection)
                if request is None:
                    break
                self.requests.append(request)
                if not await self._answer(request, reader, writer):
                    break
        except _DisconnectedError:
            self._disconnects += 1
            if self._disconnected is not None:
                self._disconnected.set()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._tasks.discard(task)
            self._writers.discard(writer)

    async def _answer(
        self, request: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Write one response; return whether the connection stays open."""
        if request.method == "GET" and request.path == "/v1/models":
            await _write_json(writer, 200, self._models_body(request), {})
            return True
        wire = request.wire
        if request.method != "POST" or wire is None:
            body = {"error": {"message": f"loopback: no route {request.path}", "type": "x"}}
            await _write_json(writer, 404, body, {})
            return True
        item = self._take()
        if item is None:
            message = f"loopback: no scripted reply queued for {request.method} {request.path}"
            body = error_body(HttpError(400, "invalid_request_error", message), wire)
            await _write_json(writer, 400, body, {})
            return True
        if isinstance(item, HttpError):
            await _write_json(writer, item.status, error_body(item, wire), item.headers)
            return True
        model = str(request.json.get("model", "loopback-model"))
        if isinstance(item, Raw):
            frames = list(item.frames)
            return await _stream(
                reader,
                writer,
                frames,
                status=item.status,
                content_type=item.content_type,
                headers=item.headers,
                delay=item.frame_delay_s,
                cut_after=item.cut_after,
                stall_after=item.stall_after,
            )
        frames = WIRES[wire](item, model)
        if item.malformed_after is not None:
            frames.insert(item.malformed_after, b'data: {"type": "broken", \n\n')
        return await _stream(
            reader,
            writer,
            frames,
            status=200,
            content_type="text/event-stream",
            headers=item.headers,
            delay=item.frame_delay_s,
            cut_after=item.cut_after,
            stall_after=item.stall_after,
        )

    def _models_body(self, request: RecordedRequest) -> dict[str, Any]:
        if "anthropic-version" in request.headers:
            data = [
                {
                    "type": "model",
                    "id": model,
                    "display_name": model,
                    "created_at": "2025-01-01T00:00:00Z",
                }
                for model in self.models
            ]
            return {
                "data": data,
                "has_more": False,
                "first_id": self.models[0] if self.models else None,
                "last_id": self.models[-1] if self.models else None,
            }
        return {
            "object": "list",
            "data": [
                {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "loopback"}
                for model in self.models
            ],
        }


async def _read_request(reader: asyncio.StreamReader, connection: int) -> RecordedRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    path = target.split("?", 1)[0]
    return RecordedRequest(method, path, headers, body, connection)


async def _write_json(
    writer: asyncio.StreamWriter, status: int, body: Any, headers: dict[str, str]
) -> None:
    payload = json.dumps(body).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(
        f"HTTP/1.1 {status} Loopback\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n{extra}\r\n".encode()
        + payload
    )
    await writer.drain()


async def _stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    frames: list[bytes],
    *,
    status: int,
    content_type: str,
    headers: dict[str, str],
    delay: float,
    cut_after: int | None,
    stall_after: int | None,
) -> bool:
    """Send ``frames`` as HTTP chunks; watch for the client hanging up meanwhile."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(
        f"HTTP/1.1 {status} Loopback\r\ncontent-type: {content_type}\r\n"
        f"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n{extra}\r\n".encode()
    )
    # A client sends nothing while a response streams; any read completing means it hung up.
    hangup = asyncio.ensure_future(reader.read(1))
    try:
        for number, frame in enumerate(frames):
            if number == cut_after:
                await writer.drain()
                writer.transport.abort()
                return False
            if number == stall_after:
                await writer.drain()
                await asyncio.wait({hangup}, timeout=_STALL_CAP_S)
                raise _DisconnectedError
            if delay and number:
                await asyncio.wait({hangup}, timeout=delay)
            if hangup.done():
                raise _DisconnectedError
            writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            await writer.drain()
        if cut_after is not None and cut_after >= len(frames):
            await writer.drain()
            writer.transport.abort()
            return False
        # Stop watching before the last chunk: after it the client may send its next request,
        # whose first byte the watcher must not swallow.
        if hangup.done():
            raise _DisconnectedError
        hangup.cancel()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True
    except ConnectionError as error:
        raise _DisconnectedError from error
    finally:
        if not hangup.done():
            hangup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hangup


class ThreadedLoopback:
    """The same server on its own event loop in a daemon thread, for synchronous tests.

    ``enqueue``, ``requests``, ``url`` and the base-URL properties work from the calling thread.
    """

    def __init__(self, *, models: tuple[str, ...] = ("loopback-model",)) -> None:
        self.server = LoopbackModelServer(models=models)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> LoopbackModelServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self.server

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
