"""Single keys read while no prompt is on screen: Ctrl+C during a turn, approval answers.

While the agent works there is no prompt to type into; the terminal is put in raw mode (no echo,
Ctrl+C arrives as a key rather than a signal) and keys are read through prompt-toolkit's own input,
so the same code serves a real terminal and the pipe input of the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prompt_toolkit.input import Input
    from prompt_toolkit.key_binding import KeyPress

__all__ = ["KeyReader"]


class KeyReader:
    """Queues the key presses of ``pt_input`` while ``listening()`` is active."""

    def __init__(self, pt_input: Input) -> None:
        self._input = pt_input
        self._queue: asyncio.Queue[KeyPress | None] = asyncio.Queue()
        self._eof = False

    @property
    def eof(self) -> bool:
        """Whether the input has ended (a closed pipe, a hung-up terminal)."""
        return self._eof

    @contextlib.contextmanager
    def listening(self) -> Iterator[None]:
        """Read keys into the queue for the duration of the block (raw mode, attached input)."""
        if self._eof:
            yield
            return
        with self._input.raw_mode(), self._input.attach(self._ready):
            yield

    def _ready(self) -> None:
        for key in self._input.read_keys():
            self._queue.put_nowait(key)
        if self._input.closed and not self._eof:
            self._eof = True
            self._queue.put_nowait(None)

    async def next_key(self) -> KeyPress | None:
        """Return the next key, or ``None`` once the input has ended."""
        if self._eof and self._queue.empty():
            return None
        return await self._queue.get()

    def take_queued(self) -> list[KeyPress]:
        """Remove and return the keys read but not yet consumed (the end-of-input mark stays)."""
        keys: list[KeyPress] = []
        while not self._queue.empty():
            key = self._queue.get_nowait()
            if key is None:
                self._queue.put_nowait(None)
                break
            keys.append(key)
        return keys

    def discard_pending(self) -> int:
        """Throw away every key typed so far, queued or still unread; return how many.

        Called before a question is asked, so that nothing typed earlier can answer it.
        """
        discarded = 0
        if not self._eof:
            # Whatever sits unread in the terminal or pipe was typed before the question too.
            while True:
                keys = self._input.read_keys()
                if not keys:
                    break
                discarded += len(keys)
            discarded += len(self._input.flush_keys())
            if self._input.closed:
                self._eof = True
        while not self._queue.empty():
            if self._queue.get_nowait() is None:
                # The end of input is a fact, not type-ahead: keep it.
                self._queue.put_nowait(None)
                break
            discarded += 1
        return discarded
