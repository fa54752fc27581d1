"""Whole-process figures for ``arcan shell``, measured in a pseudo-terminal.

Run from the repository root: ``.venv/bin/python -m benches.shell_whole_process [--runs N]``

- launch to first prompt: from spawning ``arcan shell`` to the prompt mark on the terminal (painted
  before prompt-toolkit loads, keys typed from then on are kept) and to prompt-toolkit's prompt
  live (its toolbar drawn), median of N runs, beside ``python -c pass`` and a bare prompt-toolkit
  prompt for scale. Target: under 0.15 s.
- CPU of a 2,000-token streamed reply: the process's user+system CPU for launch, one prompt whose
  reply streams 2,000 tokens (scripted provider, 4 characters a token, 200 tokens/s) and quit,
  minus the CPU of launch-and-quit alone. Also the renderer's own share, in-process (streaming
  plus the markdown re-render). Target: under 0.2 s.

Reading the CPU figures: at 200 tokens/s with one token per chunk, the process wakes about 2,000
times; on a shared 2-core VM one asyncio timer wake-up alone costs ~0.1 ms of CPU, so the
whole-process difference is mostly wake-ups (the core's own work for the same 2,000 chunks,
unpaced, is ~0.04 s). "shell alone" is the front-end's share: the event pump, the renderer and
the writes to a real pty, measured on the main thread with the core replaced by an in-process
stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import re
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

ARCAN = Path(sys.executable).with_name("arcan")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
TOKENS = 2000
CHARS_PER_TOKEN = 4
BARE_PROMPT = (
    "from prompt_toolkit import PromptSession\n"
    "PromptSession(bottom_toolbar=lambda: 'bare-toolbar').prompt('> ')\n"
)


class Terminal:
    """A child process on a pty of 120x40 that answers cursor-position requests like a terminal."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        # Size the pty so the child sees a real terminal geometry.
        import fcntl  # noqa: PLC0415
        import struct  # noqa: PLC0415
        import termios  # noqa: PLC0415

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.raw = b""

    def pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return
        if b"\x1b[6n" in data:
            os.write(self.master, b"\x1b[1;1R")
        self.raw += data

    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def wait(self, pattern: str, deadline_s: float = 30.0) -> float:
        """Return seconds since launch when ``pattern`` (a regex) first matched the screen text."""
        end = time.perf_counter() + deadline_s
        regex = re.compile(pattern, re.MULTILINE)
        while time.perf_counter() < end:
            if regex.search(self.text()):
                return time.perf_counter() - self.started
            self.pump(0.002)
        raise TimeoutError(f"{pattern!r} never appeared:\n{self.text()[-2000:]}")

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def finish(self) -> float:
        """Wait for exit; return the child's user+system CPU seconds (its reaped children too)."""
        end = time.perf_counter() + 30
        while self.process.poll() is None and time.perf_counter() < end:
            self.pump(0.01)
        if self.process.returncode is None:
            self.process.kill()
            raise TimeoutError(f"the child did not exit:\n{self.text()[-2000:]}")
        os.close(self.master)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - self.usage.ru_utime) + (after.ru_stime - self.usage.ru_stime)


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        XDG_STATE_HOME=str(home / "state"),
        XDG_CONFIG_HOME=str(home / "config"),
        HOME=str(home),
        TERM="xterm-256color",
    )
    env.pop("NO_COLOR", None)
    return env


def _cpu_so_far(pid: int) -> float:
    """User+system CPU seconds a live process has used (from ``/proc``; 10 ms resolution)."""
    with Path(f"/proc/{pid}/stat").open(encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def launch_to_prompt(
    project: Path, env: dict[str, str], argv: list[str]
) -> tuple[float, float, float]:
    """Seconds to the prompt mark painted, to prompt-toolkit's prompt live, and CPU until then.

    The live prompt is recognised by its toolbar (``starting…`` or the model's line). The CPU
    figure does not grow when the machine is busy with other work, unlike the wall times.
    """
    terminal = Terminal(argv, project, env)
    painted = terminal.wait(r"^>")
    live = terminal.wait(r"starting|harness|bare-toolbar")
    cpu = _cpu_so_far(terminal.process.pid)
    terminal.send("\x04")  # Ctrl+D: quit
    terminal.finish()
    return painted, live, cpu


def reply_text() -> str:
    """About 2,000 tokens of markdown: prose with inline code, bullet lists and code fences."""
    words = ["lorem", "ipsum", "dolor", "sit", "amet,", "tempor", "magna", "aliqua."]
    parts: list[str] = []
    paragraph = 0
    while sum(len(part) for part in parts) < TOKENS * CHARS_PER_TOKEN:
        body = " ".join(words[(paragraph + i) % len(words)] for i in range(40))
        parts.append(f"Paragraph {paragraph} with `code` and **bold**: {body}\n\n")
        if paragraph % 3 == 1:
            parts.append("- first point\n- second point with `x`\n- third point\n\n")
        if paragraph % 3 == 2:
            parts.append(
                "```python\ndef f(x: int) -> int:\n    # double it\n    return x * 2\n```\n\n"
            )
        paragraph += 1
    return "".join(parts)[: TOKENS * CHARS_PER_TOKEN]


def reply_script(path: Path) -> None:
    step = {
        "text": reply_text(),
        "chunk_chars": CHARS_PER_TOKEN,
        "chunk_delay_s": 1 / 200,
        "usage": {"input_tokens": 100, "output_tokens": TOKENS},
    }
    path.write_text(json.dumps({"steps": [step], "repeat": True}), encoding="utf-8")


def session_cpu(project: Path, env: dict[str, str], *, prompt: bool) -> float:
    argv = [str(ARCAN), "shell"]
    terminal = Terminal(argv, project, env)
    terminal.wait(r"harness")  # the toolbar once the core is open (pt redraws only changed cells)
    if prompt:
        terminal.send("go\r")
        terminal.wait(r"step")  # the turn's closing line
    terminal.send("\x04")
    return terminal.finish()


class _StreamingCore:
    """A minimal in-process ``CoreHandle`` that answers any prompt with a 2,000-token stream."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Any]] = []
        self._seq = 0
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def session_id(self) -> str:
        return "bench"

    def _emit(self, msg: Any) -> None:
        from arcan_core.protocol.events import Event  # noqa: PLC0415

        event = Event(session_id="bench", seq=self._seq, ts=datetime.now(UTC), msg=msg)
        self._seq += 1
        for queue in self._queues:
            queue.put_nowait(event)

    async def _stream(self) -> None:
        from arcan_core.protocol.events import TextDelta, TurnFinished, TurnStarted  # noqa: PLC0415

        text = reply_text()
        self._emit(TurnStarted(turn_id="t", prompt="go"))
        for start in range(0, len(text), CHARS_PER_TOKEN):
            self._emit(TextDelta(text=text[start : start + CHARS_PER_TOKEN]))
            await asyncio.sleep(0)  # one token per loop turn, as a provider's chunks arrive
        self._emit(TurnFinished(turn_id="t", stop_reason="end_turn", steps=1))

    def submit(self, op: Any) -> str:
        if op.op == "submit_prompt":
            task = asyncio.get_running_loop().create_task(self._stream())
            self._tasks.add(task)
        elif op.op == "shutdown":
            for queue in self._queues:
                queue.put_nowait(None)
            self._closed.set()
        return "s"

    def subscribe(self, *, replay: bool = False) -> AsyncIterator[Any]:
        del replay
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._queues.append(queue)

        async def events() -> AsyncIterator[Any]:
            while (event := await queue.get()) is not None:
                yield event

        return events()

    async def wait_closed(self) -> None:
        await self._closed.wait()


class _Host:
    def __init__(self, core: _StreamingCore) -> None:
        self.core = core
        self.opened = asyncio.Event()

    async def open(self, request: Any) -> Any:
        from arcan_tui.shell.host import OpenedCore  # noqa: PLC0415

        del request
        self.opened.set()
        return OpenedCore(self.core, provider="bench", model="bench", mode="ask")

    def sessions(self) -> list[Any]:
        return []


def _signalling_state() -> Any:
    from arcan_tui.shell.state import ShellState  # noqa: PLC0415

    class SignallingState(ShellState):
        """Sets ``finished`` when the shell has folded the turn's last event."""

        def __init__(self) -> None:
            super().__init__()
            self.finished = asyncio.Event()

        def apply(self, msg: Any) -> None:
            super().apply(msg)
            if msg.type == "turn_finished":
                self.finished.set()

    return SignallingState()


def shell_reply_cpu(rows: int) -> float:
    """CPU of the shell's main thread for one 2,000-token reply written to a real pty."""
    import rich.markdown  # noqa: F401, PLC0415 - the shell warms it while the user types
    from prompt_toolkit.history import InMemoryHistory  # noqa: PLC0415
    from prompt_toolkit.input import create_pipe_input  # noqa: PLC0415
    from prompt_toolkit.output import DummyOutput  # noqa: PLC0415

    from arcan_tui.shell.session import ShellSession  # noqa: PLC0415

    master, slave = pty.openpty()
    drained = threading.Event()

    def drain() -> None:
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        drained.set()

    threading.Thread(target=drain, daemon=True).start()
    out = open(slave, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - closed below
    spent = 0.0

    async def scenario() -> None:
        nonlocal spent
        with create_pipe_input() as pipe:
            core = _StreamingCore()
            host = _Host(core)
            shell = ShellSession(
                host,
                project_dir=Path(tempfile.gettempdir()),
                pt_input=pipe,
                pt_output=DummyOutput(),
                out=out,
                interactive=True,
                colour=True,
                history=InMemoryHistory(),
                size=lambda: (120, rows),
            )
            state = _signalling_state()
            shell.state = state
            running = asyncio.create_task(shell.run())
            await host.opened.wait()
            start = time.thread_time()
            pipe.send_text("go\r")
            await state.finished.wait()
            spent = time.thread_time() - start
            pipe.send_text("/quit\r")
            await running

    asyncio.run(scenario())
    out.close()
    os.close(slave)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        project = home / "project"
        (project / ".arcan").mkdir(parents=True)
        env = environment(home)
        script = home / "reply.json"
        reply_script(script)
        (project / ".arcan" / "config.toml").write_text(
            f'provider = "scripted"\nscript = "{script}"\n', encoding="utf-8"
        )

        launches = [launch_to_prompt(project, env, [str(ARCAN), "shell"]) for _ in range(runs)]
        bare = [
            launch_to_prompt(project, env, [sys.executable, "-c", BARE_PROMPT]) for _ in range(runs)
        ]
        python = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            python.append(time.perf_counter() - start)

        idle = [session_cpu(project, env, prompt=False) for _ in range(3)]
        busy = [session_cpu(project, env, prompt=True) for _ in range(3)]
    scrolled = statistics.median(shell_reply_cpu(40) for _ in range(3))
    rerendered = statistics.median(shell_reply_cpu(1000) for _ in range(3))

    print(f"median of {runs} runs (launch), 3 runs (CPU)")
    print(f"python -c pass                          {statistics.median(python):.3f} s")
    bare_live = statistics.median(live for _, live, _ in bare)
    bare_cpu = statistics.median(cpu for _, _, cpu in bare)
    print(f"bare prompt-toolkit prompt: live       {bare_live:.3f} s (CPU {bare_cpu:.2f} s)")
    painted = statistics.median(first for first, _, _ in launches)
    live = statistics.median(second for _, second, _ in launches)
    cpu = statistics.median(used for _, _, used in launches)
    print(f"arcan shell: launch to prompt painted  {painted:.3f} s")
    print(f"arcan shell: launch to prompt live     {live:.3f} s (CPU {cpu:.2f} s)")
    print(f"arcan shell: CPU, launch and quit      {statistics.median(idle):.3f} s")
    print(f"arcan shell: CPU, + 2,000-token reply  {statistics.median(busy):.3f} s")
    print(
        "  the reply's share (difference)       "
        f"{statistics.median(busy) - statistics.median(idle):.3f} s"
    )
    print(f"shell alone, 2,000-token reply, 40 rows (streamed only)      {scrolled:.3f} s")
    print(f"shell alone, 2,000-token reply, 1,000 rows (+ markdown re-render) {rerendered:.3f} s")


if __name__ == "__main__":
    main()
