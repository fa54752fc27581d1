"""A loopback model server for tests: real HTTP, the real wire formats, scripted replies.

Example::

    async with LoopbackModelServer() as server:
        server.enqueue(Reply(text="hello"), HttpError(529, "overloaded_error", "Overloaded"))
        settings = ProviderSettings(name="anthropic", base_url=server.anthropic_base_url,
                                    api_key="test-key")
        ...
        assert server.requests[0].json["stream"] is True

From synchronous code (running ``arcan`` in a subprocess)::

    with ThreadedLoopback() as server:
        server.enqueue(Reply(text="hi"))
        subprocess.run([..., "--provider", "openai-chat", "--base-url", server.openai_base_url])
"""

from tests.loopback.helpers import RecordingSleep, run_stream, run_until_error
from tests.loopback.replies import CHAT_QUIRKS, HttpError, Quirk, Raw, Reply, ToolCall
from tests.loopback.server import LoopbackModelServer, RecordedRequest, ThreadedLoopback
from tests.loopback.wire import Wire, render

__all__ = [
    "CHAT_QUIRKS",
    "HttpError",
    "LoopbackModelServer",
    "Quirk",
    "Raw",
    "RecordedRequest",
    "RecordingSleep",
    "Reply",
    "ThreadedLoopback",
    "ToolCall",
    "Wire",
    "render",
    "run_stream",
    "run_until_error",
]
