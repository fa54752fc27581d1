"""Whole-process figures for the TUI (``arcan``), measured in a real terminal (tmux).

Run from the repository root: ``.venv/bin/python -m benches.tui_whole_process [--runs N]``

In tmux, against a loopback model server over the Anthropic wire, as the peers were measured (a
2,000-token Markdown reply, 4 characters a token, streamed at 200 tokens/s; the whole client path:
transport, SSE, core, UI), and for comparison against the scripted provider (no HTTP, but one event
per token: it does not coalesce like a network stream):

- launch to interactive prompt: from spawning ``arcan`` to the prompt box and status bar on the
  screen (keys typed from then on are kept; the core connects behind it), median of N runs, beside
  a bare Textual app for scale. Target: under 0.35 s. Then keys typed at that moment: how long
  until they show in the prompt (the core is still connecting then).
- CPU for the reply: user+system CPU of the process from Enter (once the core is connected) to the
  reply's last word on screen (core, provider and UI together). Target: under 1.2 s.
- idle CPU: over 5 s after that turn, as a percentage of one core. Target: under 0.5 %.
- RSS after that turn, and after resuming a session of 1,000 messages (``--continue``). Targets:
  150 MiB and 250 MiB.

In process (headless ``run_test``, the real ``ArcanApp`` over a core double that emits the same
stream), because a frame's time is observable only inside the app:

- lag from the last chunk to the final frame (the last frame the app composes). Target: 40 ms.
- event-loop lag p95 while streaming: how late a 10 ms timer fires (a keypress waits as long).
  Target: 30 ms.
- stream CPU: process CPU from the turn's start to a quiet second after its end (UI only: the
  core is a double), a steadier figure than the whole-process one for comparing UI changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arcan_core.protocol.events import (
    Event,
    MessageAppended,
    TextDelta,
    TurnFinished,
    TurnStarted,
)
from arcan_core.protocol.messages import Message, TextBlock
from arcan_core.protocol.records import SessionHeader
from arcan_core.store.ids import new_session_id
from tests.loopback.replies import Reply
from tests.loopback.server import ThreadedLoopback
from tests.tui_support import ScriptedCore, make_app

if TYPE_CHECKING:
    from collections.abc import Callable

ARCAN = Path(sys.executable).with_name("arcan")
TOKENS = 2000
CHARS_PER_TOKEN = 4
RATE = 200
END_MARK = "END-OF-REPLY"
TYPED = "typed-at-first-frame"
BARE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Bare(App):\n"
    "    def compose(self):\n"
    "        yield Static('bare-ready')\n"
    "Bare().run()\n"
)


def reply_text() -> str:
    """About 2,000 tokens of Markdown: prose, inline code, lists and code fences."""
    words = ["lorem", "ipsum", "dolor", "sit", "amet,", "tempor", "magna", "aliqua."]
    parts: list[str] = []
    paragraph = 0
    budget = TOKENS * CHARS_PER_TOKEN - len(END_MARK) - 2
    while sum(len(part) for part in parts) < budget:
        body = " ".join(words[(paragraph + i) % len(words)] for i in range(40))
        parts.append(f"Paragraph {paragraph} with `code` and **bold**: {body}\n\n")
        if paragraph % 3 == 1:
            parts.append("- first point\n- second point with `x`\n- third point\n\n")
        if paragraph % 3 == 2:
            parts.append("```python\ndef f(x: int) -> int:\n    return x * 2\n```\n\n")
        paragraph += 1
    return "".join(parts)[:budget] + "\n\n" + END_MARK


class Pane:
    """A private tmux server running one command in a 120x40 pane."""

    def __init__(self, socket: str) -> None:
        self.base = socket
        self.socket = socket
        self.runs = 0

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self, command: str) -> int:
        # A fresh server per run: reusing a socket right after kill-server races its shutdown.
        self.runs += 1
        self.socket = f"{self.base}-{self.runs}"
        self.tmux("new-session", "-d", "-s", "b", "-x", "120", "-y", "40", command)
        return int(self.tmux("display", "-p", "-t", "b", "#{pane_pid}").strip())

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "b")

    def wait(self, predicate: Callable[[str], bool], *, deadline_s: float = 60.0) -> float:
        start = time.perf_counter()
        while not predicate(self.screen()):
            if time.perf_counter() - start > deadline_s:
                raise TimeoutError(self.screen())
        return time.perf_counter()

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "b", *keys)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False, capture_output=True)


def cpu_of(pid: int) -> float:
    """User+system CPU seconds of a live process (10 ms resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_of(pid: int) -> float:
    """Resident memory of a live process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError("no VmRSS")


def command(project: Path, home: Path, *argv: str) -> str:
    env: dict[str, object] = {
        "XDG_STATE_HOME": home / "state",
        "XDG_CONFIG_HOME": home / "config",
        "HOME": home,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "ANTHROPIC_API_KEY": "loopback",  # read only by the project whose config names it
    }
    assignments = " ".join(f"{k}='{v}'" for k, v in env.items())
    # exec: the pane's pid is the measured process itself.
    return f"cd '{project}' && exec env {assignments} {' '.join(argv)}"


def ready(text: str) -> bool:
    return "mode ask" in text and "╰" in text


def launch(pane: Pane, project: Path, home: Path) -> tuple[float, float]:
    """Spawn to the prompt on screen; then keys typed at that moment to their echo."""
    start = time.perf_counter()
    pane.start(command(project, home, str(ARCAN)))
    painted = pane.wait(ready)
    pane.send("-l", TYPED)
    echoed = pane.wait(lambda text: TYPED in text)
    pane.kill()
    return painted - start, echoed - painted


def bare_launch(pane: Pane, project: Path, home: Path) -> float:
    script = home / "bare.py"
    script.write_text(BARE_APP, encoding="utf-8")
    start = time.perf_counter()
    pane.start(command(project, home, sys.executable, str(script)))
    painted = pane.wait(lambda text: "bare-ready" in text)
    pane.kill()
    return painted - start


def stream_turn(
    pane: Pane, project: Path, home: Path, model: str = "scripted-demo"
) -> dict[str, float]:
    pid = pane.start(command(project, home, str(ARCAN)))
    # Connected: the status bar names the model (the prompt is up before the core opens, and
    # the core's start-up is not the reply's cost).
    pane.wait(lambda text: ready(text) and model in text and "connecting" not in text)
    before = cpu_of(pid)
    started = time.perf_counter()
    pane.send("go", "Enter")
    pane.wait(lambda text: END_MARK in text and "working" not in text)
    shown = time.perf_counter()
    cpu = cpu_of(pid) - before
    time.sleep(1.0)  # let the heap settle before reading idle figures
    rss = rss_of(pid)
    idle_start = cpu_of(pid)
    time.sleep(5.0)
    idle = (cpu_of(pid) - idle_start) / 5.0 * 100
    pane.kill()
    return {"cpu_s": cpu, "wall_s": shown - started, "idle_pct": idle, "rss_mib": rss}


def http_stream_turns(pane: Pane, home: Path, runs: int) -> list[dict[str, float]]:
    """The same reply from a loopback model server over the Anthropic wire, as peers were measured.

    The server paces the frames at 200 tokens/s; the whole client path runs (HTTP transport, SSE,
    mapping, coalescing, the core, the UI).
    """
    project = home / "http-project"
    (project / ".arcan").mkdir(parents=True)
    reply = Reply(text=reply_text(), chunk_chars=CHARS_PER_TOKEN, frame_delay_s=1 / RATE)
    with ThreadedLoopback() as server:
        (project / ".arcan" / "config.toml").write_text(
            f'provider = "anthropic"\nmodel = "loopback-model"\n'
            f'base_url = "{server.anthropic_base_url}"\n[ui]\nsensor_panel = false\n',
            encoding="utf-8",
        )
        turns = []
        for _ in range(runs):
            server.enqueue(reply)
            turns.append(stream_turn(pane, project, home, model="loopback-model"))
    return turns


def write_long_session(project: Path, messages: int) -> None:
    """A session log of ``messages`` messages (prompt + Markdown answer per turn)."""

    sessions = project / ".arcan" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC) - timedelta(hours=1)
    session_id = new_session_id(created)
    header = SessionHeader(
        session_id=session_id,
        arcan_version="bench",
        created=created,
        cwd=str(project),
        provider="scripted",
        model="scripted-demo",
        title="a long session",
    )
    lines = [header.model_dump_json()]
    seq = 0

    def add(msg: Any) -> None:
        nonlocal seq
        seq += 1
        event = Event(session_id=session_id, seq=seq, ts=created + timedelta(seconds=seq), msg=msg)
        lines.append(event.model_dump_json())

    for turn in range(messages // 2):
        prompt = f"question {turn}: how does part {turn} work?"
        answer = (
            f"Part {turn} works like this:\n\n- it reads `input_{turn}`\n- it writes **output**\n\n"
            "```python\ndef step(x):\n    return x + 1\n```\n\nThat is all."
        )
        add(TurnStarted(turn_id=f"t{turn}", prompt=prompt))
        add(MessageAppended(message=Message(role="user", content=(TextBlock(text=prompt),))))
        add(MessageAppended(message=Message(role="assistant", content=(TextBlock(text=answer),))))
        add(TurnFinished(turn_id=f"t{turn}", stop_reason="end_turn"))
    (sessions / f"{session_id}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def long_session(pane: Pane, project: Path, home: Path) -> dict[str, float]:
    start = time.perf_counter()
    pid = pane.start(command(project, home, str(ARCAN), "--continue"))
    last = f"question {499}"
    pane.wait(lambda text: last in text and ready(text))
    shown = time.perf_counter() - start
    time.sleep(1.5)
    rss = rss_of(pid)
    pane.kill()
    return {"resume_s": shown, "rss_mib": rss}


async def in_process() -> dict[str, float]:
    """Stream the reply into the real app headless; time frames and loop lag."""

    text = reply_text()
    with tempfile.TemporaryDirectory() as directory:
        core = ScriptedCore()
        app = make_app(core, Path(directory))
        frames: list[float] = []
        async with app.run_test(size=(120, 40)) as pilot:
            app.chat.prompt.cursor_blink = False
            original = app._display

            def timed_display(*args: Any, **kwargs: Any) -> None:
                frames.append(time.perf_counter())
                original(*args, **kwargs)

            app._display = timed_display  # type: ignore[method-assign]
            lags: list[float] = []
            streaming = True

            async def probe() -> None:
                while streaming:
                    before = time.perf_counter()
                    await asyncio.sleep(0.01)
                    lags.append(time.perf_counter() - before - 0.01)

            probe_task = asyncio.create_task(probe())
            cpu_start = time.process_time()
            core.emit(TurnStarted(turn_id="t1", prompt="go"))
            step = CHARS_PER_TOKEN
            start = time.perf_counter()
            for index in range(0, len(text), step):
                # Release chunks on the wall clock at 200 tokens/s, as a provider would.
                due = start + (index // step) / RATE
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                core.emit(TextDelta(text=text[index : index + step]))
            message = Message(role="assistant", content=(TextBlock(text=text),))
            core.emit(
                MessageAppended(message=message), TurnFinished(turn_id="t1", stop_reason="end_turn")
            )
            last_chunk = time.perf_counter()
            streaming = False
            await probe_task
            await asyncio.sleep(1.0)
            settled = time.perf_counter()
            stream_cpu = time.process_time() - cpu_start
            await pilot.pause()
    # The final frame: the last one composed in the quiet second after the stream ended.
    final = max(frame for frame in frames if frame < settled)
    lags.sort()
    return {
        "last_chunk_to_final_frame_ms": (final - last_chunk) * 1000,
        "loop_lag_p50_ms": lags[len(lags) // 2] * 1000,
        "loop_lag_p95_ms": lags[int(len(lags) * 0.95)] * 1000,
        "loop_lag_max_ms": lags[-1] * 1000,
        "produce_s": last_chunk - start,
        "stream_cpu_s": stream_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        project = home / "project"
        (project / ".arcan").mkdir(parents=True)
        script = home / "reply.json"
        step = {
            "text": reply_text(),
            "chunk_chars": CHARS_PER_TOKEN,
            "chunk_delay_s": 1 / RATE,
            "usage": {"input_tokens": 100, "output_tokens": TOKENS},
        }
        script.write_text(json.dumps({"steps": [step], "repeat": True}), encoding="utf-8")
        (project / ".arcan" / "config.toml").write_text(
            f'provider = "scripted"\nscript = "{script}"\n[ui]\nsensor_panel = false\n',
            encoding="utf-8",
        )
        pane = Pane(f"arcan-tui-bench-{os.getpid()}")
        try:
            launches = [launch(pane, project, home) for _ in range(runs)]
            bares = [bare_launch(pane, project, home) for _ in range(runs)]
            turns = [stream_turn(pane, project, home) for _ in range(runs)]
            http_turns = http_stream_turns(pane, home, runs)
            long_project = home / "long"
            (long_project / ".arcan").mkdir(parents=True)
            (long_project / ".arcan" / "config.toml").write_text(
                (project / ".arcan" / "config.toml").read_text(encoding="utf-8"), encoding="utf-8"
            )
            write_long_session(long_project, 1000)
            long = long_session(pane, long_project, home)
        finally:
            pane.kill()
    headless = [asyncio.run(in_process()) for _ in range(runs)]

    def median(key: str, rows: list[dict[str, float]]) -> float:
        return statistics.median(row[key] for row in rows)

    print(f"median of {runs} runs")
    launch_s = statistics.median(painted for painted, _ in launches)
    print(f"launch to interactive prompt   {launch_s:.3f} s  (target < 0.35)")
    echo_ms = statistics.median(echoed for _, echoed in launches) * 1000
    print(f"  keys typed then, echoed in   {echo_ms:.0f} ms (the core connects meanwhile)")
    print(f"  bare Textual app             {statistics.median(bares):.3f} s")
    # The peers were measured against a loopback model server: that is the comparable figure.
    print(f"2,000-token reply CPU          {median('cpu_s', http_turns):.2f} s  (target < 1.2)")
    print(f"  wall, Enter to last word     {median('wall_s', http_turns):.2f} s (stream is 10 s)")
    print(f"  from the scripted provider   {median('cpu_s', turns):.2f} s (an event per token)")
    print(f"idle CPU                       {median('idle_pct', turns):.2f} %  (target < 0.5)")
    print(f"RSS after that turn            {median('rss_mib', turns):.0f} MiB (target < 150)")
    print(f"RSS after 1,000 messages       {long['rss_mib']:.0f} MiB (target < 250)")
    print(f"  resume to last turn shown    {long['resume_s']:.2f} s")
    lag = median("last_chunk_to_final_frame_ms", headless)
    print(f"last chunk to final frame      {lag:.0f} ms (target < 40, headless)")
    p95 = median("loop_lag_p95_ms", headless)
    print(f"event-loop lag p95 streaming   {p95:.1f} ms (target < 30, headless)")
    print(
        f"  p50 {median('loop_lag_p50_ms', headless):.1f} ms, "
        f"max {median('loop_lag_max_ms', headless):.0f} ms, "
        f"producer {median('produce_s', headless):.2f} s for a 10 s stream"
    )
    print(f"stream CPU, UI only              {median('stream_cpu_s', headless):.2f} s (headless)")


if __name__ == "__main__":
    main()
