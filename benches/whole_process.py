"""Whole-process start-up figures: ``arcan --version``, ``arcan sessions``, bare Python.

Run from the repository root: ``.venv/bin/python -m benches.whole_process [--runs N]``

It prints the median wall time of N runs of each command and its ratio to ``python -c pass``
(machines differ; the ratio travels). ``arcan sessions`` runs in a temporary project holding
1,000 sessions. Target on a 2-core machine: ``arcan --version`` under 0.07 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benches.bench_store import make_sessions

ARCAN = Path(sys.executable).with_name("arcan")


def median_wall(argv: list[str], *, runs: int, cwd: Path) -> float:
    """Median seconds of ``runs`` runs of ``argv`` (after one warm-up run)."""
    subprocess.run(argv, cwd=cwd, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        make_sessions(project, 1000)
        figures = {
            "python -c pass": median_wall([sys.executable, "-c", "pass"], runs=runs, cwd=project),
            "arcan --version": median_wall([str(ARCAN), "--version"], runs=runs, cwd=project),
            "arcan sessions (1,000)": median_wall([str(ARCAN), "sessions"], runs=runs, cwd=project),
        }
    base = figures["python -c pass"]
    print(f"median of {runs} runs")
    for name, seconds in figures.items():
        print(f"{name:<24} {seconds * 1000:8.1f} ms   {seconds / base:5.2f}x python -c pass")


if __name__ == "__main__":
    main()
