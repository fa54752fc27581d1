"""Fragments read together become one stream event; nothing else moves or changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

from arcan_core.providers.anthropic import AnthropicProvider
from arcan_core.providers.base import (
    ProviderSettings,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallBegin,
    ToolCallChunk,
    ToolCallEnd,
)
from arcan_core.providers.coalesce import coalesce
from tests.loopback import LoopbackModelServer, Reply, run_stream
from tests.test_providers_anthropic import HELLO, KEY

if TYPE_CHECKING:
    from collections.abc import Sequence

_text = st.text(max_size=4)
EVENTS = st.lists(
    st.one_of(
        st.builds(TextChunk, text=_text),
        st.builds(ThinkingChunk, text=_text),
        st.builds(ThinkingChunk, text=_text, signature=st.just("sig")),
        st.builds(ToolCallChunk, call_id=st.sampled_from(["a", "b"]), fragment=_text),
        st.builds(ToolCallBegin, call_id=st.sampled_from(["a", "b"]), name=st.just("read")),
        st.builds(ToolCallEnd, call_id=st.sampled_from(["a", "b"])),
    ),
    max_size=30,
)


def _runs(events: Sequence[StreamEvent]) -> list[tuple[str, str, str]]:
    """Fold ``events`` into (kind, key, payload) runs, joining what may be joined."""
    folded: list[tuple[str, str, str]] = []
    for event in events:
        if isinstance(event, TextChunk):
            item = ("text", "", event.text)
        elif isinstance(event, ThinkingChunk) and event.signature is None:
            item = ("thinking", "", event.text)
        elif isinstance(event, ToolCallChunk):
            item = ("args", event.call_id, event.fragment)
        else:
            folded.append(("other", repr(event), ""))
            continue
        if folded and folded[-1][:2] == item[:2] and folded[-1][0] != "other":
            folded[-1] = (item[0], item[1], folded[-1][2] + item[2])
        else:
            folded.append(item)
    return folded


@given(EVENTS)
def test_coalescing_keeps_every_fragment_in_order_and_joins_every_run(
    events: list[StreamEvent],
) -> None:
    merged = coalesce(events)
    assert _runs(merged) == _runs(events)
    # Maximal: no two neighbours of the result could still be joined.
    assert len(merged) == len(_runs(events))


async def test_fragments_read_together_arrive_as_one_chunk() -> None:
    async with LoopbackModelServer() as server:
        server.enqueue(Reply(text="one two three four five six", chunk_chars=3))
        settings = ProviderSettings(
            name="anthropic", base_url=server.anthropic_base_url, api_key=KEY, read_timeout_s=5
        )
        provider = AnthropicProvider(settings)
        try:
            events, reply = await run_stream(provider, HELLO)
        finally:
            await provider.aclose()
    texts = [e.text for e in events if isinstance(e, TextChunk)]
    assert "".join(texts) == "one two three four five six"
    # Nine frames, written back to back: fewer events than frames reach the consumer.
    assert len(texts) < 9
    assert reply.message().text() == "one two three four five six"
