"""Time `kg build` and `kg validate` on the seed data (reported, not asserted).

    .venv/bin/python benchmarks/build_time.py [--runs 5]

Prints the median and best wall time of: the build in-process (the work alone), and
`kg build`, `kg validate`, `kg stats` as fresh processes (start-up included).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _time(func, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import kg

    data = REPO / "data"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "build"
        rows = [("build, in-process", _time(lambda: kg.build_graph(data, out), args.runs))]
        for command in ("build", "validate", "stats"):
            argv = [sys.executable, "-m", "kg", command, "--data", str(data),
                    "--build-dir", str(out)]
            rows.append((f"kg {command}, process", _time(
                lambda argv=argv: subprocess.run(argv, check=True, capture_output=True),
                args.runs)))
        result = kg.build_graph(data, out)
    print(f"# {platform.node()} {platform.machine()}, Python {platform.python_version()}, "
          f"{result.triples} triples, {result.facts} facts, {args.runs} runs")
    for name, times in rows:
        print(f"{name:<24} median {statistics.median(times):6.3f}s   best {min(times):6.3f}s")


if __name__ == "__main__":
    main()
