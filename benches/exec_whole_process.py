"""Whole-process ``arcan exec`` against a loopback model server: what a user feels.

Run: ``.venv/bin/python benches/exec_whole_process.py [--runs 5]``

Scenarios (the peers were measured the same way on this machine, see the agent-core issue):

- ``reply``: one streamed reply of about 300 tokens, no tools.
- ``read``: one read-file tool round trip (two requests).
- ``long``: a 2,000-token reply streamed at 200 tokens/s (CPU matters here, not wall).

Each run is a fresh process (``arcan exec`` with the Anthropic provider pointed at the loopback
server, default settings: checkpoints on); wall time, CPU time (user + system) and peak RSS come
from ``os.wait4`` of that process. The median of the runs is printed.

One unmeasured warm-up run goes first, with ``PYTHONDONTWRITEBYTECODE`` removed from the child's
environment: an installed arcan has its bytecode compiled (pip does it at install), but a
development checkout where that variable is set would otherwise recompile every module edited
since its ``.pyc`` was written, on every run, and time the compiler instead of arcan.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.loopback.replies import Reply, ToolCall
from tests.loopback.server import ThreadedLoopback

ARCAN = [sys.executable, "-c", "from arcan_tui.cli import entry; entry()"]

WORDS = "the quick brown fox jumps over the lazy dog and keeps running "


def _reply_text(tokens: int) -> str:
    # About four characters a token, as the meters estimate.
    text = (WORDS * (tokens * 4 // len(WORDS) + 1))[: tokens * 4]
    return text.strip()


SCENARIOS: dict[str, list[Reply]] = {
    "reply": [Reply(text=_reply_text(300), chunk_chars=4)],
    "read": [
        Reply(tool_calls=(ToolCall("read", {"path": "notes.txt"}),)),
        Reply(text="The notes say hello.", chunk_chars=4),
    ],
    "long": [Reply(text=_reply_text(2000), chunk_chars=4, frame_delay_s=1 / 200)],
}


def _run_once(
    url: str, project: Path, env: dict[str, str]
) -> tuple[float, float, float, int, float, float]:
    argv = [
        *ARCAN,
        "exec",
        "-C",
        str(project),
        "--provider",
        "anthropic",
        "--base-url",
        url,
        "--model",
        "loopback-model",
        "read notes.txt and summarise",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if process.stderr is not None:
        process.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    return wall, cpu, usage.ru_maxrss / 1024, code, usage.ru_utime, usage.ru_stime


def main() -> int:
    """Run every scenario and print median wall, CPU and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        project = root / "project"
        project.mkdir()
        (project / "notes.txt").write_text("hello from the notes\n")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ARCAN_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            ANTHROPIC_API_KEY="loopback",
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_STATE_HOME=str(root / "state"),
            HOME=str(root / "home"),
        )
        with ThreadedLoopback() as server:
            server.enqueue(*SCENARIOS["reply"])
            if _run_once(server.anthropic_base_url, project, env)[3] != 0:
                print("warm-up: arcan exec failed", file=sys.stderr)
                return 1
            for name in args.scenario or ["reply", "read", "long"]:
                walls, cpus, rss, users, systems = [], [], [], [], []
                for _ in range(args.runs):
                    server.enqueue(*SCENARIOS[name])
                    wall, cpu, peak, code, user, system = _run_once(
                        server.anthropic_base_url, project, env
                    )
                    if code != 0:
                        print(f"{name}: arcan exec exited {code}", file=sys.stderr)
                        return 1
                    walls.append(wall)
                    cpus.append(cpu)
                    rss.append(peak)
                    users.append(user)
                    systems.append(system)
                # The minimum beside the median: on a shared machine other work only ever adds.
                print(
                    f"{name:6s} wall {statistics.median(walls):.3f} s  "
                    f"cpu {statistics.median(cpus):.3f} s (min {min(cpus):.3f}; "
                    f"user {statistics.median(users):.3f}, sys {statistics.median(systems):.3f})  "
                    f"peak RSS {statistics.median(rss):.0f} MiB  (median of {args.runs})"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
