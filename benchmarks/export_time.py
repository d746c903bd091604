"""Time `kg export` on the seed graph, per format and selection (reported, not asserted).

    .venv/bin/python benchmarks/export_time.py [--runs 5]

In-process (the work alone: load the build once, then select + serialise) and as a
fresh `kg export` process (start-up and loading included).
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

SELECTIONS: dict[str, dict[str, object]] = {
    "whole graph": {},
    "--population children": {"population": "children"},
    "--around eclampsia --depth 2": {"around": "eclampsia", "depth": 2},
    "--path diuretics 'leg cramp'": {"path": ("diuretics", "leg cramp")},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import kg
    from kg.export import FORMATS, export_files
    from kg.subgraph import Selection, select

    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        kg.build_graph(REPO / "data", build)
        graph = kg.load(build).graph
        print(f"# {platform.node()} {platform.machine()}, Python {platform.python_version()}, "
              f"{len(graph)} triples, median of {args.runs} runs, in-process")
        print(f"{'selection':<32}" + "".join(f"{name:>9}" for name in FORMATS))
        for label, sel in SELECTIONS.items():
            cells = []
            for name in FORMATS:
                times = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    export_files(select(graph, Selection(**sel)), name)  # type: ignore[arg-type]
                    times.append(time.perf_counter() - t0)
                cells.append(f"{statistics.median(times) * 1000:7.0f}ms")
            print(f"{label:<32}" + "".join(f"{c:>9}" for c in cells))
        for argv in (["--format", "ttl"], ["--population", "children", "--format", "graphml"]):
            cmd = [sys.executable, "-m", "kg", "export", "--build-dir", str(build), *argv,
                   "-o", str(Path(tmp) / "out")]
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                times.append(time.perf_counter() - t0)
            print(f"process: kg export {' '.join(argv):<40} median "
                  f"{statistics.median(times):.3f}s")


if __name__ == "__main__":
    main()
